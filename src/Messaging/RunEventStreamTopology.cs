using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace AgentOrchestrator.Messaging;

/// <summary>
/// Declares the run-event stream, binds it to the exchange MassTransit publishes the event message to, and declares
/// the error queue. Idempotent: every worker and gateway calls it at start, so whichever comes first creates them.
/// </summary>
public static class RunEventStreamTopology
{
    /// <summary>The marker header of a message a gateway writes into the stream to find where "now" is.</summary>
    public const string MarkerHeader = "ao-stream-marker";

    /// <summary>The exchange MassTransit's RabbitMQ transport publishes <typeparamref name="TMessage"/> to (its default entity name).</summary>
    public static string ExchangeOf<TMessage>() => $"{typeof(TMessage).Namespace}:{typeof(TMessage).Name}";

    /// <param name="channel">An open channel; it is closed by the broker if the declaration fails.</param>
    /// <param name="options">Stream name, error queue and retention.</param>
    /// <param name="exchange">The fanout exchange MassTransit publishes run events to (its entity name for the message type).</param>
    public static async Task DeclareAsync(IChannel channel, RunEventStreamOptions options, string exchange, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            // Same type and flags as MassTransit declares it (durable fanout), so both declarations agree.
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueDeclareAsync(options.Name, durable: true, exclusive: false, autoDelete: false, StreamArguments(options), cancellationToken: cancellationToken);
            await channel.QueueBindAsync(options.Name, exchange, routingKey: string.Empty, cancellationToken: cancellationToken);
            await channel.QueueDeclareAsync(options.ErrorQueue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406)
        {
            throw new InvalidOperationException(
                $"The run-event stream '{options.Name}' or error queue '{options.ErrorQueue}' exists with other arguments than Bus:RunEventStream " +
                $"configures (x-queue-type=stream, x-max-age, x-max-length-bytes, x-stream-max-segment-size-bytes): {e.ShutdownReason.ReplyText}", e);
        }
    }

    private static Dictionary<string, object?> StreamArguments(RunEventStreamOptions options) => new()
    {
        ["x-queue-type"] = "stream",
        ["x-max-age"] = $"{(long)Math.Ceiling(options.MaxAge.TotalSeconds)}s",
        ["x-max-length-bytes"] = options.MaxLengthBytes,
        ["x-stream-max-segment-size-bytes"] = options.MaxSegmentSizeBytes,
    };
}
