using System.ComponentModel.DataAnnotations;

namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>Where the run-event log lives.</summary>
public enum RunEventLogStore
{
    /// <summary>In this process: the embedded host, where the workers and the gateway share one process.</summary>
    InMemory,

    /// <summary>Redis, shared by every worker and gateway: what a deployment over RabbitMQ uses.</summary>
    Redis,
}

/// <summary>The run-event log (configuration section "RunEvents:Log"); see docs/replay-tier.md.</summary>
public sealed class RunEventLogOptions
{
    public const string SectionName = "RunEvents:Log";

    public RunEventLogStore Store { get; set; } = RunEventLogStore.InMemory;

    /// <summary>StackExchange.Redis configuration, e.g. "127.0.0.1:6379" (required when <see cref="Store"/> is Redis).</summary>
    public string? Redis { get; set; }

    /// <summary>
    /// How long a run's log stays after its last append: a run's events are replayable while it runs (unless it is
    /// quiet this long) and this long after its terminal event. Past it, a gateway rebuilds the transcript from
    /// Temporal history.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Whether a finished step attempt's deltas are replaced by one record (its text once) when its step.completed is
    /// appended. On by default; off keeps every delta's message until the log expires (the memory figures in
    /// docs/performance.md compare the two).
    /// </summary>
    public bool CompactFinishedAttempts { get; set; } = true;

    /// <summary>
    /// With the InMemory store: a file where every append is written before it is answered, so the logs survive a
    /// restart of the process (the embedded host sets it in its data directory unless --ephemeral). Unset: memory only.
    /// </summary>
    public string? JournalPath { get; set; }

    /// <summary>Prefix of the Redis keys (one hash per run plus one for its compacted steps).</summary>
    [Required]
    public string KeyPrefix { get; set; } = "ao:run-log:";
}
