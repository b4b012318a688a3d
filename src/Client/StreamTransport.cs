namespace AgentOrchestrator.Client;

/// <summary>How the client follows runs' events (both give the same events, order, resume and acks).</summary>
public enum StreamTransport
{
    /// <summary>The SignalR hub /hubs/runs (the default).</summary>
    SignalR,

    /// <summary>The plain WebSocket endpoint /v1/ws: the lightest connection on the gateway.</summary>
    WebSocket,
}
