using System.ComponentModel.DataAnnotations;

namespace AgentOrchestrator.RunStreaming.Live;

/// <summary>Live routing of run events over RabbitMQ (configuration section "RunEvents:Live"); see docs/replay-tier.md.</summary>
public sealed class RunEventLiveOptions
{
    public const string SectionName = "RunEvents:Live";

    /// <summary>The direct exchange workers publish appended entries to, with the run's workflow id as routing key.</summary>
    [Required]
    public string Exchange { get; set; } = "agent-orchestrator.run-events.live";

    /// <summary>
    /// Bound of a gateway's live queue (messages). Past it the broker drops the oldest; the gateway notices the gap by
    /// sequence number and reads the missing entries from the log, so a slow gateway costs broker memory only up to here.
    /// </summary>
    [Range(1, 100_000_000)]
    public int MaxQueueLength { get; set; } = 100_000;

    /// <summary>Backoff between a gateway's reconnect attempts (full jitter between the two).</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(10);
}
