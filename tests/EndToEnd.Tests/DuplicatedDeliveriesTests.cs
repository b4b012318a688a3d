using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// At-least-once delivery made visible: while a run streams, a tap bound to the run's live routing receives its
/// messages and publishes copies into the live exchange the worker publishes to (same run, epoch and sequence number),
/// each message once more right away and once more after the next one (so copies arrive out of order). The broker is
/// a private node, so the copies reach no other test's gateways. Gateways must drop every copy (subscribers receive no
/// duplicate id) and the transcript stays exact.
/// </summary>
public sealed class DuplicatedDeliveriesTests
{
    private const string CopyHeader = "x-test-copy";

    [Fact]
    public async Task Run_EveryMessageDuplicatedAndReorderedOnTheBus_SubscribersSeeEachEventOnceAndExactTranscript()
    {
        await using var broker = await PrivateRabbitMqNode.StartAsync();
        await using var deployment = await DistributedDeployment.StartAsync(broker.Uri,
            new Dictionary<string, string> { ["ModelSimulator__TokensPerSecond"] = "20" }, gateways: 2);
        const string tenant = "tenant-duplicates";
        await using var client = await RunClient.ConnectAsync(deployment.Gateway, tenant);
        var token = await ResumingSubscriber.DevTokenAsync(deployment.Gateway, tenant);
        var runId = await client.StartRunAsync(Flows.WriterReviewer, "Explain why durable workflows help AI agents.");
        await using var tap = await CopyingTap.StartAsync(broker.Uri, deployment.LiveExchange, RunWorkflowIds.For(tenant, runId));

        var aborted = false;
        var subscriber = new ResumingSubscriber(deployment.Gateways, token, runId)
        {
            OnEvent = (s, e) =>
            {
                if (!aborted && e is { Type: RunEventTypes.Token, Step: "reviewer", Index: >= 3 })
                {
                    aborted = true;
                    s.AbortTransport(); // a resume on the other gateway while copies keep arriving
                }
            },
        };
        try
        {
            await subscriber.RunAsync(TimeSpan.FromMinutes(4));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            throw new TimeoutException($"{e.Message}\nprocess output:\n{deployment.Output}", e);
        }
        var late = new ResumingSubscriber(deployment.Gateways, token, runId, firstGateway: 1);
        await late.RunAsync(TimeSpan.FromMinutes(2));

        var run = await RunOfAsync(deployment.Gateway, token, runId);
        Assert.True(tap.Copies(runId) > 20, $"the tap copied only {tap.Copies(runId)} messages of the run");
        Assert.Equal(0, subscriber.DuplicatesReceived);
        Assert.Equal(0, late.DuplicatesReceived);
        TranscriptAssertions.Exact(subscriber, run, "duplicated and reordered deliveries");
        TranscriptAssertions.Exact(late, run, "duplicated and reordered deliveries, subscribed after completion");
    }

    private static async Task<JsonElement> RunOfAsync(Uri gateway, string token, string runId)
    {
        using var http = new HttpClient { BaseAddress = gateway };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        JsonElement run = default;
        await Eventually.TrueAsync(async () =>
        {
            run = await http.GetFromJsonAsync<JsonElement>($"/v1/runs/{runId}");
            return run.GetProperty("status").GetString() != "running";
        }, TimeSpan.FromSeconds(60), "the run's workflow closes");
        return run;
    }

    /// <summary>Receives the run's live messages on a queue of its own and republishes each twice, the second copy after the next original.</summary>
    private sealed class CopyingTap : IAsyncDisposable
    {
        private readonly IConnection _connection;
        private readonly IChannel _reader;
        private readonly IChannel _publisher;
        private readonly string _exchange;
        private readonly string _routingKey;
        private int _copies;
        private (ReadOnlyMemory<byte> Body, IDictionary<string, object?> Headers)? _held;

        private CopyingTap(IConnection connection, IChannel reader, IChannel publisher, string exchange, string routingKey)
        {
            _connection = connection;
            _reader = reader;
            _publisher = publisher;
            _exchange = exchange;
            _routingKey = routingKey;
        }

        public static async Task<CopyingTap> StartAsync(Uri broker, string exchange, string routingKey)
        {
            var connection = await RabbitMqAdmin.ConnectAsync(broker);
            var reader = await connection.CreateChannelAsync();
            var publisher = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            var tap = new CopyingTap(connection, reader, publisher, exchange, routingKey);
            var queue = (await reader.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true)).QueueName;
            await reader.QueueBindAsync(queue, exchange, routingKey);
            await reader.BasicQosAsync(0, 100, global: false);
            var consumer = new AsyncEventingBasicConsumer(reader);
            consumer.ReceivedAsync += (_, delivery) => tap.OnDeliveryAsync(delivery);
            await reader.BasicConsumeAsync(queue, autoAck: false, consumer);
            return tap;
        }

        public int Copies(string runId) => Volatile.Read(ref _copies);

        private async Task OnDeliveryAsync(BasicDeliverEventArgs delivery)
        {
            var headers = delivery.BasicProperties.Headers;
            // Originals only, not our own copies.
            if (headers?.ContainsKey(CopyHeader) != true)
            {
                var copy = (delivery.Body.ToArray().AsMemory(), (IDictionary<string, object?>)new Dictionary<string, object?>(headers ?? new Dictionary<string, object?>()));
                Interlocked.Increment(ref _copies);
                await PublishCopyAsync(copy);
                if (_held is { } held)
                {
                    await PublishCopyAsync(held); // after a later message: out of order
                    _held = null;
                }
                else
                {
                    _held = (copy.Item1, copy.Item2);
                }
            }
            await _reader.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        }

        private async Task PublishCopyAsync((ReadOnlyMemory<byte> Body, IDictionary<string, object?> Headers) message)
        {
            var headers = new Dictionary<string, object?>(message.Headers) { [CopyHeader] = "1" };
            var properties = new BasicProperties { ContentType = "application/json", Headers = headers };
            await _publisher.BasicPublishAsync(_exchange, _routingKey, mandatory: false, properties, message.Body);
        }

        public async ValueTask DisposeAsync()
        {
            await _reader.DisposeAsync();
            await _publisher.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}
