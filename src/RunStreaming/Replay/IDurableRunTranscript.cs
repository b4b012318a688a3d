using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Replay;

/// <summary>
/// A run's transcript rebuilt from its durable record (Temporal's workflow history), for subscribers whose cursor is
/// no longer in any event tail: per finished step its final text as one delta, plus the lifecycle events. Only
/// finished steps are in the durable record; the live tail covers the rest.
/// </summary>
public interface IDurableRunTranscript
{
    /// <summary>The run's events in canonical order, or null when the run does not exist for this tenant.</summary>
    Task<IReadOnlyList<RunEvent>?> ReadAsync(string tenantId, string runId, CancellationToken cancellationToken);
}
