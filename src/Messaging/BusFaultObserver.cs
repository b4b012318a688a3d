using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Messaging;

/// <summary>
/// Sees every message a MassTransit consumer gave up on (after all retries and redeliveries, on its way to the
/// endpoint's _error queue): counts it on meter "AgentOrchestrator.Bus" (bus.consumer.dead_lettered) and logs it at
/// error level, so a parked message is alerted on, never silent.
/// </summary>
public sealed partial class BusFaultObserver : IReceiveObserver
{
    public const string MeterName = "AgentOrchestrator.Bus";
    private readonly Counter<long> _deadLettered;
    private readonly ILogger<BusFaultObserver> _logger;

    public BusFaultObserver(IMeterFactory meters, ILogger<BusFaultObserver> logger)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _logger = logger;
        _deadLettered = meters.Create(MeterName).CreateCounter<long>("bus.consumer.dead_lettered", unit: "{message}",
            description: "Messages a consumer failed on after every retry and redelivery, moved to the endpoint's _error queue");
    }

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        _deadLettered.Add(1, new KeyValuePair<string, object?>("message_type", typeof(T).Name), new KeyValuePair<string, object?>("consumer", consumerType));
        MessageDeadLettered(_logger, exception, typeof(T).Name, consumerType, context.MessageId?.ToString() ?? "(none)", context.ReceiveContext.InputAddress?.ToString() ?? "(unknown)");
        return Task.CompletedTask;
    }

    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType)
        where T : class => Task.CompletedTask;

    public Task ReceiveFault(ReceiveContext context, Exception exception) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Error, Message = "Consumer {Consumer} failed on {MessageType} {MessageId} from {InputAddress} after every retry and redelivery; moved to the error queue")]
    private static partial void MessageDeadLettered(ILogger logger, Exception exception, string messageType, string consumer, string messageId, string inputAddress);
}
