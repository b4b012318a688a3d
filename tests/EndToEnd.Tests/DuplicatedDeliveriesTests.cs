using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// At-least-once delivery made visible: while a run streams, a tap reads the run's messages off the stream and
/// publishes copies into the real exchange the worker publishes to, each message once more right away and once more
/// after the next one (so copies arrive out of order). The broker is a private node, so the copies reach no other
/// test's gateways. Gateways must drop every copy (subscribers receive no duplicate id) and the transcript stays exact.
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
        await using var tap = await CopyingTap.StartAsync(broker.Uri, deployment.EventStream);
        var runId = await client.StartRunAsync(Flows.WriterReviewer, "Explain why durable workflows help AI agents.");

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

    /// <summary>Reads the stream from its start and republishes every original run-event message twice, the second copy after the next original.</summary>
    private sealed class CopyingTap : IAsyncDisposable
    {
        private readonly IConnection _connection;
        private readonly IChannel _reader;
        private readonly IChannel _publisher;
        private readonly Dictionary<string, int> _copies = [];
        // The exchange MassTransit publishes the message type to: its default entity name.
        private readonly string _exchange = $"{typeof(RunEventsPublished).Namespace}:{nameof(RunEventsPublished)}";
        private ReadOnlyMemory<byte>? _held;

        private CopyingTap(IConnection connection, IChannel reader, IChannel publisher)
        {
            _connection = connection;
            _reader = reader;
            _publisher = publisher;
        }

        public static async Task<CopyingTap> StartAsync(Uri broker, string stream)
        {
            var connection = await RabbitMqAdmin.ConnectAsync(broker);
            var reader = await connection.CreateChannelAsync();
            var publisher = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            var tap = new CopyingTap(connection, reader, publisher);
            await reader.BasicQosAsync(0, 100, global: false);
            var consumer = new AsyncEventingBasicConsumer(reader);
            consumer.ReceivedAsync += (_, delivery) => tap.OnDeliveryAsync(delivery);
            await reader.BasicConsumeAsync(stream, autoAck: false, consumerTag: string.Empty, noLocal: false, exclusive: false,
                new Dictionary<string, object?> { ["x-stream-offset"] = "first" }, consumer);
            return tap;
        }

        public int Copies(string runId)
        {
            lock (_copies)
            {
                return _copies.GetValueOrDefault(runId);
            }
        }

        private async Task OnDeliveryAsync(BasicDeliverEventArgs delivery)
        {
            var headers = delivery.BasicProperties.Headers;
            // Originals only: not our own copies, and not the gateways' readiness markers (empty bodies).
            if (headers?.ContainsKey(CopyHeader) != true && RunIdOf(delivery.Body) is { } runId)
            {
                var body = delivery.Body.ToArray();
                lock (_copies)
                {
                    _copies[runId] = _copies.GetValueOrDefault(runId) + 1;
                }
                await PublishCopyAsync(body);
                if (_held is { } held)
                {
                    await PublishCopyAsync(held); // after a later message: out of order
                    _held = null;
                }
                else
                {
                    _held = body;
                }
            }
            await _reader.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        }

        private async Task PublishCopyAsync(ReadOnlyMemory<byte> body)
        {
            var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", Headers = new Dictionary<string, object?> { [CopyHeader] = "1" } };
            await _publisher.BasicPublishAsync(_exchange, string.Empty, mandatory: false, properties, body);
        }

        private static string? RunIdOf(ReadOnlyMemory<byte> body)
        {
            if (body.IsEmpty)
            {
                return null;
            }
            using var envelope = JsonDocument.Parse(body);
            return envelope.RootElement.GetProperty("message").GetProperty("runId").GetString();
        }

        public async ValueTask DisposeAsync()
        {
            await _reader.DisposeAsync();
            await _publisher.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}
