using System.ComponentModel.DataAnnotations;

namespace AgentOrchestrator.Messaging;

/// <summary>
/// What a MassTransit consumer does with a message it fails on (configuration section "Bus:Retry"): immediate retries
/// with exponential backoff, then in-process redeliveries after longer delays, then the endpoint's _error queue.
/// </summary>
public sealed class MessageRetryOptions
{
    public const string SectionName = "Bus:Retry";

    /// <summary>Retries right after a failure, with exponential backoff between <see cref="MinInterval"/> and <see cref="MaxInterval"/>.</summary>
    [Range(0, 100)]
    public int RetryLimit { get; set; } = 5;

    public TimeSpan MinInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Redeliveries, the second stage after the retries: the message is handed to the consumer again after longer,
    /// exponentially growing delays. In process (the message stays unacknowledged, so a crash hands it back to the
    /// broker) because broker-side delayed redelivery needs the rabbitmq_delayed_message_exchange plugin, which
    /// Debian's broker does not ship.
    /// </summary>
    [Range(0, 100)]
    public int RedeliveryLimit { get; set; } = 3;

    public TimeSpan RedeliveryMinInterval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan RedeliveryMaxInterval { get; set; } = TimeSpan.FromSeconds(30);
}
