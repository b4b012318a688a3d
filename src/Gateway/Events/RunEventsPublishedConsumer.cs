using AgentOrchestrator.Contracts;
using MassTransit;

namespace AgentOrchestrator.Gateway.Events;

/// <summary>Feeds run events from the bus into this gateway instance's <see cref="IRunEventFeed"/>.</summary>
public sealed class RunEventsPublishedConsumer(IRunEventFeed feed) : IConsumer<RunEventsPublished>
{
    public Task Consume(ConsumeContext<RunEventsPublished> context)
    {
        feed.Append(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Every gateway instance needs every run's events (its subscribers may be on any run), so each instance gets its
/// own temporary queue (fan-out) instead of competing on a shared one. Messages are consumed one at a time, in the
/// order the broker holds them (the realtime-delivery work replaces this with reordering by event sequence).
/// </summary>
public sealed class RunEventsPublishedConsumerDefinition : ConsumerDefinition<RunEventsPublishedConsumer>
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
