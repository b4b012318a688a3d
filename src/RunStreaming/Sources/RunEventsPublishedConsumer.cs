using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.RunStreaming.Telemetry;
using MassTransit;

namespace AgentOrchestrator.RunStreaming.Sources;

/// <summary>Feeds run events from the bus into this gateway instance's <see cref="IRunEventFeed"/>.</summary>
internal sealed class RunEventsPublishedConsumer(IRunEventFeed feed, RunStreamMetrics metrics) : IConsumer<RunEventsPublished>
{
    public Task Consume(ConsumeContext<RunEventsPublished> context)
    {
        feed.Append(metrics.Received(context.Message));
        metrics.BusConsumed(context.Message, RunStreamMetrics.InMemoryTransport);
        return Task.CompletedTask;
    }
}

/// <summary>
/// The in-memory transport's path (one process; over RabbitMQ gateways read the run-event stream instead, see
/// Stream/RunEventStreamSource). The endpoint is a temporary queue of its own, and messages are consumed one at a
/// time, in the order the bus holds them.
/// </summary>
internal sealed class RunEventsPublishedConsumerDefinition : ConsumerDefinition<RunEventsPublishedConsumer>
{
    public RunEventsPublishedConsumerDefinition()
    {
        Endpoint(endpoint =>
        {
            endpoint.Name = "gateway-run-events";
            endpoint.InstanceId = "-" + Guid.NewGuid().ToString("N")[..12];
            endpoint.Temporary = true;
            // One message at a time keeps the broker's (per-publisher) order: concurrent consumers, even partitioned
            // by run, may hand two deliveries of one run to the feed in either order.
            endpoint.ConcurrentMessageLimit = 1;
            // Deliveries are still handled one by one, but the broker keeps a window in flight instead of waiting a
            // round trip per message, so one consumer keeps up with many streams.
            endpoint.PrefetchCount = 512;
        });
    }
}
