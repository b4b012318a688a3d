using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Client;

/// <summary>
/// One shared connection to the gateway that carries run event streams (the hub or the plain WebSocket). A stream's
/// failures surface from its enumerator: a gateway error as <see cref="AgentOrchestratorException"/> or a transport's
/// own error type (classified by the client), anything else as a connection loss.
/// </summary>
internal interface IRunEventChannel : IAsyncDisposable
{
    /// <summary>The run's events after <paramref name="cursor"/>, on the shared connection (connected with backoff first).</summary>
    Task<IAsyncEnumerator<RunEvent>> OpenAsync(string runId, string? cursor, CancellationToken cancellationToken);

    /// <summary>Sends an ack on the current connection; null when no connection is up (nothing to ack on).</summary>
    Task? AckAsync(string runId, string cursor, CancellationToken cancellationToken);
}
