namespace AgentOrchestrator.RunStreaming.Subscribers;

/// <summary>This gateway process's identity among its peers (machine name plus a per-process suffix).</summary>
internal sealed class GatewayInstance
{
    public string Id { get; } = $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..8]}";
}
