namespace AgentOrchestrator.RunStreaming.Subscriptions;

/// <summary>Whether a run exists: the host answers (the gateway asks Temporal), so this library does not depend on where runs live.</summary>
public interface IRunLookup
{
    /// <summary>False alike for an unknown run and for another tenant's run.</summary>
    Task<bool> ExistsAsync(string tenantId, string runId, CancellationToken cancellationToken);
}
