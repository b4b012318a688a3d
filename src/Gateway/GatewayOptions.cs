using System.ComponentModel.DataAnnotations;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Gateway;

/// <summary>Public API limits and the flows callers may start (configuration section "Gateway").</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>
    /// Flow names a caller may start besides the shipped ones (<see cref="FlowCatalog"/>); each is a workflow type on
    /// <see cref="TaskQueues.Agents"/> taking a text input. Configuration adds them (Gateway:Flows:0, ...); hosts may also add in code.
    /// </summary>
    public ISet<string> Flows { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Longest accepted run input, in characters (UTF-16 code units).</summary>
    [Range(1, 10_000_000)]
    public int MaxInputLength { get; set; } = 32 * 1024;

    /// <summary>Longest accepted Idempotency-Key header value.</summary>
    [Range(1, 1024)]
    public int MaxIdempotencyKeyLength { get; set; } = 200;
}

/// <summary>Where the Temporal frontend is (configuration section "Temporal").</summary>
public sealed class GatewayTemporalOptions
{
    public const string SectionName = "Temporal";

    /// <summary>host:port of the Temporal frontend (or the embedded DevServer).</summary>
    [Required]
    public string Target { get; set; } = "127.0.0.1:7233";

    [Required]
    public string Namespace { get; set; } = "default";
}

/// <summary>Limits of the gateway's in-memory event tail (configuration section "Gateway:Events").</summary>
public sealed class RunEventTailOptions
{
    public const string SectionName = "Gateway:Events";

    /// <summary>Events kept per run for replay; the oldest are dropped beyond this.</summary>
    [Range(1, 10_000_000)]
    public int MaxEventsPerRun { get; set; } = 10_000;

    /// <summary>Runs kept at once; beyond this, finished runs go first, then the least recently active.</summary>
    [Range(1, 10_000_000)]
    public int MaxRuns { get; set; } = 10_000;

    /// <summary>How long a finished run's tail stays for late subscribers.</summary>
    public TimeSpan CompletedRunRetention { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an unfinished run with no new events and no subscribers stays (its worker may be gone).</summary>
    public TimeSpan IdleRunRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Live events buffered per subscriber; a subscriber that falls this far behind has its stream ended with an error.</summary>
    [Range(1, 10_000_000)]
    public int SubscriberBufferCapacity { get; set; } = 4096;
}
