namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>
/// A finished step attempt's token deltas as one record: the attempt's whole text and, per delta, the sequence number
/// it was appended at and where its text starts. The publisher that appended the deltas builds it (it knows their
/// positions) and hands it over with step.completed; the log drops the deltas' entries and keeps this instead, in the
/// <see cref="Epoch"/> the deltas were appended in (a log of another epoch ignores it).
/// </summary>
public sealed record StepCompaction(string Epoch, string Step, int Attempt, string? Agent, string Text, IReadOnlyList<CompactedToken> Tokens,
    DateTimeOffset Ts);

/// <summary>One delta of a compacted attempt: its sequence number, index and UTF-16 offset in the attempt's text.</summary>
public readonly record struct CompactedToken(long Seq, long Index, int Offset);
