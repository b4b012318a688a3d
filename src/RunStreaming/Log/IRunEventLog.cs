using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>
/// Each run's append-only event log: the replay store every gateway reads by run and position, and the sequencer
/// that gives a run's bus messages one order. An append assigns the message the run's next sequence number (1, 2,
/// 3, ... with no holes) within the log's epoch (the id of this incarnation of the run's log: a log that expired or
/// was lost starts again at 1 under a new epoch). Entries live until the run has been quiet for the retention.
/// Implementations: <see cref="InMemoryRunEventLog"/> (one process) and <see cref="RedisRunEventLog"/> (shared);
/// both pass the same conformance tests.
/// </summary>
public interface IRunEventLog
{
    /// <summary>
    /// Appends <paramref name="message"/> to its run's log. With <paramref name="compaction"/> (given with a step
    /// attempt's step.completed), the attempt's token entries are replaced by one record holding their text; reads
    /// still return every token at its sequence number. Implementations start the append before their first await,
    /// so appends a caller starts one after another get sequence numbers in that order.
    /// </summary>
    ValueTask<RunLogPosition> AppendAsync(RunEventsPublished message, StepCompaction? compaction, CancellationToken cancellationToken);

    /// <summary>The run's entries from <paramref name="fromSeq"/> to the head, in order (none, with a null epoch, when the run has no log).</summary>
    ValueTask<RunLogSlice> ReadAsync(string tenantId, string runId, long fromSeq, CancellationToken cancellationToken);
}
