using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace AgentOrchestrator.TestSupport;

/// <summary>Direct broker access for tests: raw publishes, reading a queue, cleaning up what a test declared.</summary>
public static class RabbitMqAdmin
{
    public static async Task<IConnection> ConnectAsync(Uri broker) =>
        await new ConnectionFactory { Uri = broker, ClientProvidedName = "test-admin" }.CreateConnectionAsync();

    /// <summary>Deletes the queues (a stream is a queue) if they exist.</summary>
    public static async Task DeleteQueuesAsync(Uri broker, params string[] queues)
    {
        ArgumentNullException.ThrowIfNull(queues);
        await using var connection = await ConnectAsync(broker);
        await using var channel = await connection.CreateChannelAsync();
        foreach (var queue in queues)
        {
            await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);
        }
    }

    /// <summary>Deletes the exchanges if they exist.</summary>
    public static async Task DeleteExchangesAsync(Uri broker, params string[] exchanges)
    {
        ArgumentNullException.ThrowIfNull(exchanges);
        await using var connection = await ConnectAsync(broker);
        await using var channel = await connection.CreateChannelAsync();
        foreach (var exchange in exchanges)
        {
            await channel.ExchangeDeleteAsync(exchange, ifUnused: false);
        }
    }

    /// <summary>Publishes raw bytes with publisher confirms (returns once the broker has taken them).</summary>
    public static async Task PublishAsync(Uri broker, string exchange, string routingKey, ReadOnlyMemory<byte> body, IDictionary<string, object?>? headers = null)
    {
        await using var connection = await ConnectAsync(broker);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true, Headers = headers };
        await channel.BasicPublishAsync(exchange, routingKey, mandatory: false, properties, body);
    }

    /// <summary>Takes one message off a classic queue, or null when it is empty or does not exist (yet).</summary>
    public static async Task<BasicGetResult?> GetAsync(Uri broker, string queue)
    {
        await using var connection = await ConnectAsync(broker);
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return await channel.BasicGetAsync(queue, autoAck: true);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return null;
        }
    }
}
