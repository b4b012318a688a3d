using System.ComponentModel.DataAnnotations;

namespace AgentOrchestrator.RunStreaming.Sources;

/// <summary>How a gateway reads the run-event stream (configuration section "Gateway:EventStream"; RabbitMQ transport only).</summary>
public sealed class RunEventStreamSourceOptions
{
    public const string SectionName = "Gateway:EventStream";

    /// <summary>
    /// How far back a starting gateway reads to warm its tails (the stream is read from now minus this). Null: the
    /// stream's whole retention (Bus:RunEventStream:MaxAge), so every run still in the stream can be resumed here.
    /// </summary>
    public TimeSpan? WarmWindow { get; set; }

    /// <summary>Deliveries the broker keeps in flight to this gateway (AMQP QoS prefetch; streams require one).</summary>
    [Range(1, ushort.MaxValue)]
    public int Prefetch { get; set; } = 1000;

    /// <summary>First reconnect delay after the connection is lost; doubles per failed attempt up to <see cref="ReconnectMaxDelay"/>, with full jitter.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>In-process retries of a message that failed to process, before it is parked in the error queue.</summary>
    [Range(0, 100)]
    public int ProcessingRetryLimit { get; set; } = 3;

    /// <summary>Delay before the first processing retry; doubles per retry.</summary>
    public TimeSpan ProcessingRetryMinDelay { get; set; } = TimeSpan.FromMilliseconds(100);
}
