namespace AgentOrchestrator.ServiceDefaults;

public enum BusTransport
{
    /// <summary>MassTransit's in-memory transport: one process only (embedded mode, unit tests).</summary>
    InMemory,

    /// <summary>A RabbitMQ broker: what distributed deployments use.</summary>
    RabbitMq,
}

/// <summary>Which bus carries run events (configuration section "Bus").</summary>
public sealed class MessageBusOptions
{
    public const string SectionName = "Bus";

    public BusTransport Transport { get; set; } = BusTransport.InMemory;

    /// <summary>RabbitMQ connection, e.g. amqp://guest:guest@127.0.0.1:5672/ (used when Transport is RabbitMq).</summary>
    public Uri? RabbitMqUri { get; set; }
}

/// <summary>
/// What a MassTransit consumer does with a message it fails on (configuration section "Bus:Retry"): immediate retries
/// with exponential backoff, then in-process redeliveries after longer delays, then the endpoint's _error queue.
/// </summary>
public sealed class MessageRetryOptions
{
    public const string SectionName = "Bus:Retry";

    /// <summary>Retries right after a failure, with exponential backoff between <see cref="MinInterval"/> and <see cref="MaxInterval"/>.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 100)]
    public int RetryLimit { get; set; } = 5;

    public TimeSpan MinInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Redeliveries, the second stage after the retries: the message is handed to the consumer again after longer,
    /// exponentially growing delays. In process (the message stays unacknowledged, so a crash hands it back to the
    /// broker) because broker-side delayed redelivery needs the rabbitmq_delayed_message_exchange plugin, which
    /// Debian's broker does not ship.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0, 100)]
    public int RedeliveryLimit { get; set; } = 3;

    public TimeSpan RedeliveryMinInterval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan RedeliveryMaxInterval { get; set; } = TimeSpan.FromSeconds(30);
}
