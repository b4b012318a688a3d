using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Messaging;

internal static partial class MessagingLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Message bus: RabbitMQ at {Broker}")]
    public static partial void RabbitMqBus(ILogger logger, string broker);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message bus: MassTransit in-memory transport (single process)")]
    public static partial void InMemoryBus(ILogger logger);
}
