namespace AgentOrchestrator.Messaging;

public enum BusTransport
{
    /// <summary>MassTransit's in-memory transport: one process only (embedded mode, unit tests).</summary>
    InMemory,

    /// <summary>A RabbitMQ broker: what distributed deployments use.</summary>
    RabbitMq,
}
