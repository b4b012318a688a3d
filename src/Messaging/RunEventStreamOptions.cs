using System.ComponentModel.DataAnnotations;

namespace AgentOrchestrator.Messaging;

/// <summary>
/// The RabbitMQ stream that keeps every run event (configuration section "Bus:RunEventStream"): gateways read it to
/// fan out, to warm their tails on start and to resume after a broker restart; workers declare it so events published
/// before any gateway exists are kept. Used only when Bus:Transport is RabbitMq. See docs/replay-tier.md.
/// </summary>
public sealed class RunEventStreamOptions
{
    public const string SectionName = "Bus:RunEventStream";

    /// <summary>The stream queue's name.</summary>
    [Required]
    public string Name { get; set; } = "agent-orchestrator.run-events";

    /// <summary>Where messages the gateway cannot process are parked (a durable classic queue), never dropped.</summary>
    [Required]
    public string ErrorQueue { get; set; } = "agent-orchestrator.run-events.error";

    /// <summary>
    /// Retention by age (x-max-age). The default covers the gateways' one-hour completed-run retention plus a run's
    /// own length; a segment leaves the stream only once all its messages are older.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Retention by size (x-max-length-bytes): a disk bound that wins over <see cref="MaxAge"/>.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxLengthBytes { get; set; } = 20L * 1024 * 1024 * 1024;

    /// <summary>Segment file size (x-stream-max-segment-size-bytes): retention removes whole segments.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxSegmentSizeBytes { get; set; } = 100L * 1024 * 1024;
}
