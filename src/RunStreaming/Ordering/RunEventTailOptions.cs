using System.ComponentModel.DataAnnotations;

namespace AgentOrchestrator.RunStreaming.Ordering;

/// <summary>Limits of the gateway's in-memory event tail (configuration section "Gateway:Events").</summary>
public sealed class RunEventTailOptions
{
    public const string SectionName = "Gateway:Events";

    /// <summary>
    /// Released events kept per run for replay; beyond this the oldest go and a subscriber that needs them gets
    /// stream.reset and the transcript rebuilt from the run's durable record.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxEventsPerRun { get; set; } = 10_000;

    /// <summary>Runs kept at once; beyond this, finished runs go first, then the least recently active.</summary>
    [Range(1, 10_000_000)]
    public int MaxRuns { get; set; } = 10_000;

    /// <summary>How long a finished run's tail stays for late subscribers (the resume window after the run).</summary>
    public TimeSpan CompletedRunRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an unfinished run with no new events and no subscribers stays (its worker may be gone).</summary>
    public TimeSpan IdleRunRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Out-of-order events held per step attempt while an earlier index is missing; past this the held events are
    /// released in index order with a warning (the missing ones are taken as lost).
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxHeldPerStepAttempt { get; set; } = 1024;

    /// <summary>How long an event may be held waiting for an earlier one before it is released anyway, with a warning.</summary>
    public TimeSpan MaxHoldTime { get; set; } = TimeSpan.FromSeconds(30);
}
