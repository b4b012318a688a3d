using System.Diagnostics.Metrics;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Live;
using AgentOrchestrator.RunStreaming.Log;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.RunStreaming.Publishing;
using AgentOrchestrator.RunStreaming.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.RunStreaming.Tests.Ordering;

/// <summary>
/// A gateway's feed over the in-process run-event path (the embedded host's): messages are published as a worker
/// publishes them (appended to the log, then sent live), subscriptions go through the feed.
/// </summary>
internal sealed class FeedHarness : IAsyncDisposable
{
    private readonly List<RunEventFeed> _others = [];
    private readonly RunEventTailOptions _options;
    private readonly TimeProvider _time;
    private readonly RunEventPathMetrics _metrics;
    private readonly RunStreamMetrics _streamMetrics;

    private FeedHarness(InMemoryRunEventLog log, InMemoryRunEventLiveBus bus, RunEventFeed feed, RunEventPublisher publisher, RunEventTailOptions options,
        TimeProvider time, RunEventPathMetrics metrics, RunStreamMetrics streamMetrics)
    {
        _streamMetrics = streamMetrics;
        _options = options;
        _time = time;
        _metrics = metrics;
        Log = log;
        Bus = bus;
        Feed = feed;
        Publisher = publisher;
    }

    public InMemoryRunEventLog Log { get; }

    public InMemoryRunEventLiveBus Bus { get; }

    public RunEventFeed Feed { get; }

    public RunEventPublisher Publisher { get; }

    public static async Task<FeedHarness> StartAsync(TimeProvider time, RunEventTailOptions? options = null)
    {
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var metrics = new RunEventPathMetrics(meters);
        var streamMetrics = new RunStreamMetrics(meters, time);
        var log = new InMemoryRunEventLog(Options.Create(new RunEventLogOptions()), time);
        var bus = new InMemoryRunEventLiveBus(NullLogger<InMemoryRunEventLiveBus>.Instance);
        await bus.StartAsync(default);
        options ??= new RunEventTailOptions();
        var feed = new RunEventFeed(log, bus, Options.Create(options), Options.Create(new DeliveryOptions()), time, metrics, streamMetrics,
            NullLogger<RunEventFeed>.Instance);
        await feed.StartAsync(default);
        return new FeedHarness(log, bus, feed, new RunEventPublisher(log, bus), options, time, metrics, streamMetrics);
    }

    /// <summary>Another gateway's feed over the same log and live routing.</summary>
    public RunEventFeed AddGateway()
    {
        var feed = new RunEventFeed(Log, Bus, Options.Create(_options), Options.Create(new DeliveryOptions()), _time, _metrics, _streamMetrics,
            NullLogger<RunEventFeed>.Instance);
        _others.Add(feed);
        return feed;
    }

    public async Task AppendAsync(RunEventsPublished message) => await Publisher.PublishAsync(message, default);

    public async Task<RunEventSubscription> SubscribeAsync(string tenantId, string runId, string? cursor) =>
        await Feed.SubscribeAsync(tenantId, runId, cursor, null, default);

    public async ValueTask DisposeAsync()
    {
        foreach (var feed in _others.Append(Feed))
        {
            await feed.StopAsync(default);
            feed.Dispose();
        }
        await Bus.StopAsync(default);
        Bus.Dispose();
    }
}
