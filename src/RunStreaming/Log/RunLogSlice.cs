using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>One message of a run's log at its sequence number.</summary>
public sealed record RunLogEntry(long Seq, RunEventsPublished Message);

/// <summary>
/// Entries read from a run's log, contiguous from the requested position up to <see cref="Head"/> (the last sequence
/// number assigned when read). <see cref="Epoch"/> is null when the run has no log (never written, or expired).
/// </summary>
public sealed record RunLogSlice(string? Epoch, long Head, IReadOnlyList<RunLogEntry> Entries)
{
    public static RunLogSlice None { get; } = new(null, 0, []);
}
