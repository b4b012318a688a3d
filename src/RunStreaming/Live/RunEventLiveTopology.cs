using RabbitMQ.Client;

namespace AgentOrchestrator.RunStreaming.Live;

/// <summary>The live exchange, declared idempotently by every publisher and gateway.</summary>
internal static class RunEventLiveTopology
{
    public static Task DeclareAsync(IChannel channel, RunEventLiveOptions options, CancellationToken cancellationToken) =>
        channel.ExchangeDeclareAsync(options.Exchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken);

    /// <summary>A gateway's own queue: server-named, gone with its connection, bounded (oldest dropped: the log has them).</summary>
    public static async Task<string> DeclareGatewayQueueAsync(IChannel channel, RunEventLiveOptions options, CancellationToken cancellationToken)
    {
        var ok = await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true, new Dictionary<string, object?>
        {
            ["x-max-length"] = options.MaxQueueLength,
            ["x-overflow"] = "drop-head",
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return ok.QueueName;
    }
}
