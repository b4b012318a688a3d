using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;

namespace AgentOrchestrator.RunStreaming.Ordering;

/// <summary>
/// Where the gateway puts each run's events into their canonical order (see docs/protocol.md), keeps the tail and
/// pushes released events to subscribers. Event sources (the bus consumer, a replay stream) call
/// <see cref="Append"/> in source order. Runs are keyed by tenant and run id together.
/// </summary>
internal interface IRunEventFeed
{
    /// <summary>Takes a message's events into their run's canonical order and pushes what that releases. Never blocks on a subscriber.</summary>
    void Append(RunEventsPublished message);

    /// <summary>
    /// The retained events after <paramref name="cursor"/> (an event id; null or empty: all retained events) and,
    /// atomically with that snapshot, <paramref name="live"/> registered for every later event (a default-sized
    /// queue when null). Dispose to unsubscribe.
    /// </summary>
    RunEventSubscription Subscribe(string tenantId, string runId, string? cursor, SubscriberOutbox? live = null);
}
