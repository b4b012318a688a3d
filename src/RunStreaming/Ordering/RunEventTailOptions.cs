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

    /// <summary>Runs this gateway watches at once; beyond this, finished runs go first, then unwatched ones, then the least recently active.</summary>
    [Range(1, 10_000_000)]
    public int MaxRuns { get; set; } = 10_000;

    /// <summary>
    /// How long a run stays on this gateway after its last subscriber left (a quick reconnect finds it still here).
    /// Past it the run is dropped and its live routing unbound; a later subscriber reads it from the run's log again.
    /// </summary>
    public TimeSpan UnwatchedRetention { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a live entry waits for a missing earlier one before that one is read from the log.</summary>
    public TimeSpan GapGrace { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// A watched run with subscribers that received nothing for this long checks its log for entries that never arrived
    /// live (a broker that dropped them); the interval doubles up to <see cref="QuietCheckMaxInterval"/> while nothing turns up.
    /// </summary>
    public TimeSpan QuietCheckMinInterval { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan QuietCheckMaxInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Out-of-order events held per step attempt while an earlier index is missing; past this the held events are
    /// released in index order with a warning (the missing ones are taken as lost).
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxHeldPerStepAttempt { get; set; } = 1024;

    /// <summary>How long an event may be held waiting for an earlier one before it is released anyway, with a warning.</summary>
    public TimeSpan MaxHoldTime { get; set; } = TimeSpan.FromSeconds(30);
}
