using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Live;

namespace AgentOrchestrator.RunStreaming.Ordering;

/// <summary>
/// A run this gateway watches: its canonical tail, where it stands in the run's log (epoch, next sequence number),
/// live entries that arrived ahead of a missing one, and its subscribers (in the tail). Guarded by <see cref="Gate"/>.
/// </summary>
internal sealed class WatchedRun(string key, string tenantId, string runId, DateTimeOffset now)
{
    public Lock Gate { get; } = new();

    public string Key { get; } = key;

    public string TenantId { get; } = tenantId;

    public string RunId { get; } = runId;

    public RunTail Tail { get; set; } = new(key, tenantId, runId, now);

    /// <summary>The log incarnation the tail was built from (null until the log or a live entry names one).</summary>
    public string? Epoch { get; set; }

    /// <summary>The sequence number of the next entry to fold into the tail.</summary>
    public long NextSeq { get; set; } = 1;

    /// <summary>Live entries ahead of <see cref="NextSeq"/> (or arriving while the run loads), by sequence number.</summary>
    public SortedDictionary<long, RunLogAppended> Pending { get; } = [];

    /// <summary>Completed when the first load (bind, then read the log) is done; faulted if it failed.</summary>
    public TaskCompletionSource Loaded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Loading { get; set; } = true;

    /// <summary>A read of the log is scheduled or running (gap, catch-up): another one is not started meanwhile.</summary>
    public bool Reading { get; set; }

    /// <summary>Another read is wanted once the running one ends (a gap appeared, or the epoch changed, while reading).</summary>
    public bool ReadAgain { get; set; }

    public DateTimeOffset LastEntryAt { get; set; } = now;

    /// <summary>When a quiet run's log is next checked for entries that never arrived live; doubles while nothing is found.</summary>
    public DateTimeOffset NextQuietCheck { get; set; } = now;

    public TimeSpan QuietCheckInterval { get; set; }

    /// <summary>When the last subscriber left (null while it has subscribers).</summary>
    public DateTimeOffset? UnwatchedSince { get; set; } = now;

    public bool Removed { get; set; }
}
