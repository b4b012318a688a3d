namespace AgentOrchestrator.Messaging;

/// <summary>Which bus carries run events (configuration section "Bus").</summary>
public sealed class MessageBusOptions
{
    public const string SectionName = "Bus";

    public BusTransport Transport { get; set; } = BusTransport.InMemory;

    /// <summary>RabbitMQ connection, e.g. amqp://guest:guest@127.0.0.1:5672/ (used when Transport is RabbitMq).</summary>
    public Uri? RabbitMqUri { get; set; }
}
