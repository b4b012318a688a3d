using System.Diagnostics.Metrics;
using System.Text;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Messaging;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.RunStreaming.Sources;
using AgentOrchestrator.RunStreaming.Telemetry;
using AgentOrchestrator.TestSupport;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentOrchestrator.RunStreaming.Tests.Sources;

/// <summary>
/// The gateway's stream source over a real broker, in process with the real feed: what a worker publishes through
/// MassTransit reaches the feed through the stream; a poison message is retried, parked and counted, and does not
/// stop later events.
/// </summary>
public sealed class RunEventStreamSourceTests(RabbitMqFixture rabbit) : IClassFixture<RabbitMqFixture>, IAsyncLifetime
{
    private readonly string _stream = "test-stream-source-" + Guid.NewGuid().ToString("N")[..12];

    private string ErrorQueue => _stream + ".error";

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => RabbitMqAdmin.DeleteQueuesAsync(rabbit.Uri, _stream, ErrorQueue);

    private IHost BuildGateway()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bus:Transport"] = "RabbitMq",
            ["Bus:RabbitMqUri"] = rabbit.Uri.ToString(),
            ["Bus:RunEventStream:Name"] = _stream,
            ["Bus:RunEventStream:ErrorQueue"] = ErrorQueue,
            ["Gateway:EventStream:ProcessingRetryMinDelay"] = "00:00:00.050",
        });
        builder.Services.AddOptions<RunEventTailOptions>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IRunEventFeed, InMemoryRunEventFeed>();
        builder.Services.AddMessageBus(builder.Configuration, bus => bus.AddRunEventConsumer(builder.Configuration));
        builder.Services.AddRunEventSource(builder.Configuration);
        return builder.Build();
    }

    [Fact]
    public async Task PoisonMessage_RetriedThenParkedInErrorQueueAndCounted_LaterEventsStillFlow()
    {
        using var gateway = BuildGateway();
        using var metrics = new CounterRecorder(gateway.Services.GetRequiredService<IMeterFactory>(), RunEventStreamMetrics.MeterName);
        await gateway.StartAsync();
        try
        {
            var state = gateway.Services.GetRequiredService<RunEventStreamState>();
            await Eventually.TrueAsync(() => state.IsReady, TimeSpan.FromSeconds(60), "the stream source caught up");

            var poison = Encoding.UTF8.GetBytes("{\"message\": {\"runId\": 42, this is not json");
            await RabbitMqAdmin.PublishAsync(rabbit.Uri, exchange: string.Empty, routingKey: _stream, poison);
            var runId = Guid.NewGuid().ToString("N");
            await gateway.Services.GetRequiredService<IPublishEndpoint>().Publish(new RunEventsPublished
            {
                RunId = runId,
                TenantId = "acme",
                Events = [new RunEvent { Id = RunEventIds.ForRun(runId, RunEventTypes.RunStarted), RunId = runId, TenantId = "acme", Type = RunEventTypes.RunStarted, Ts = DateTimeOffset.UtcNow }],
            });

            var feed = gateway.Services.GetRequiredService<IRunEventFeed>();
            await Eventually.TrueAsync(() =>
            {
                using var subscription = feed.Subscribe("acme", runId, cursor: null);
                return subscription.Replay.Count == 1;
            }, TimeSpan.FromSeconds(60), "the event published after the poison message reaches the feed");

            var parked = await RabbitMqAdmin.GetAsync(rabbit.Uri, ErrorQueue);
            Assert.NotNull(parked);
            Assert.Equal(poison, parked.Body.ToArray());
            var headers = parked.BasicProperties.Headers!;
            Assert.Equal(typeof(InvalidRunEventMessageException).FullName, Encoding.UTF8.GetString((byte[])headers["x-failure-exception"]!));
            Assert.Equal(_stream, Encoding.UTF8.GetString((byte[])headers["x-failure-source"]!));
            Assert.Null(await RabbitMqAdmin.GetAsync(rabbit.Uri, ErrorQueue));
            Assert.Equal(1, metrics.Total("gateway.bus.dead_lettered"));
            Assert.Equal(3, metrics.Total("gateway.bus.processing_retries"));
        }
        finally
        {
            await gateway.StopAsync();
        }
    }

    [Fact]
    public async Task Start_EventsPublishedBeforeTheGatewayExisted_WarmedIntoTheFeedBeforeReady()
    {
        var runId = Guid.NewGuid().ToString("N");
        // The stream exists (a worker declared it at its start) and an event is published while no gateway runs.
        await using (var connection = await RabbitMqAdmin.ConnectAsync(rabbit.Uri))
        await using (var channel = await connection.CreateChannelAsync())
        {
            var options = new RunEventStreamOptions { Name = _stream, ErrorQueue = ErrorQueue };
            await RunEventStreamTopology.DeclareAsync(channel, options, RunEventStreamTopology.ExchangeOf<RunEventsPublished>(), CancellationToken.None);
        }
        await RabbitMqAdmin.PublishAsync(rabbit.Uri, exchange: RunEventStreamTopology.ExchangeOf<RunEventsPublished>(), routingKey: string.Empty,
            Encoding.UTF8.GetBytes($$$"""{"messageType":["urn:message:AgentOrchestrator.Contracts:RunEventsPublished"],"message":{"runId":"{{{runId}}}","tenantId":"acme","events":[{"id":"{{{runId}}}/run.started","runId":"{{{runId}}}","tenantId":"acme","type":"run.started","ts":"2026-01-01T00:00:00Z"}]}}"""));

        using var gateway = BuildGateway();
        await gateway.StartAsync();
        try
        {
            var state = gateway.Services.GetRequiredService<RunEventStreamState>();
            await Eventually.TrueAsync(() => state.IsReady, TimeSpan.FromSeconds(60), "the stream source caught up");
            using var subscription = gateway.Services.GetRequiredService<IRunEventFeed>().Subscribe("acme", runId, cursor: null);

            Assert.Equal(RunEventIds.ForRun(runId, RunEventTypes.RunStarted), Assert.Single(subscription.Replay).Id);
        }
        finally
        {
            await gateway.StopAsync();
        }
    }

    /// <summary>Sums the long counters of one meter of one host (test classes running beside it have their own), from any thread.</summary>
    private sealed class CounterRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _totals = [];

        public CounterRecorder(IMeterFactory scope, string meterName)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == scope && instrument.Meter.Name == meterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                lock (_totals)
                {
                    _totals[instrument.Name] = _totals.GetValueOrDefault(instrument.Name) + value;
                }
            });
            _listener.Start();
        }

        public long Total(string instrument)
        {
            lock (_totals)
            {
                return _totals.GetValueOrDefault(instrument);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
