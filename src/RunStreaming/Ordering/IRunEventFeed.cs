using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;

namespace AgentOrchestrator.RunStreaming.Ordering;

/// <summary>
/// Where the gateway keeps each watched run in its canonical order (see docs/protocol.md) and pushes released events to
/// subscribers. Runs are keyed by tenant and run id together.
/// </summary>
internal interface IRunEventFeed
{
    /// <summary>
    /// The retained events after <paramref name="cursor"/> (an event id; null or empty: all retained events) and,
    /// atomically with that snapshot, <paramref name="live"/> registered for every later event (a default-sized
    /// queue when null). The run's first subscriber on this gateway waits while the run is loaded from its log.
    /// Dispose to unsubscribe.
    /// </summary>
    /// <exception cref="RunStreamUnavailableException">The run's events cannot be read now (log or routing unreachable).</exception>
    ValueTask<RunEventSubscription> SubscribeAsync(string tenantId, string runId, string? cursor, SubscriberOutbox? live, CancellationToken cancellationToken);
}
