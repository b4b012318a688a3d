using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Delivery;

namespace AgentOrchestrator.Gateway.Events;

/// <summary>
/// Where the gateway puts each run's events into their canonical order (see docs/protocol.md), keeps the tail and
/// pushes released events to subscribers. Event sources (the bus consumer, a replay stream) call
/// <see cref="Append"/> in source order. Runs are keyed by tenant and run id together.
/// </summary>
public interface IRunEventFeed
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

/// <summary>A snapshot of retained events plus a live queue; nothing is in both, nothing falls between them.</summary>
public sealed class RunEventSubscription(IReadOnlyList<RunEvent> replay, SubscriberOutbox live, bool cursorKnown, bool fromRunStart,
    Action? unsubscribe) : IDisposable
{
    private Action? _unsubscribe = unsubscribe;

    public IReadOnlyList<RunEvent> Replay { get; } = replay;

    /// <summary>Later events; ends after a terminal event; fails with <see cref="SlowConsumerException"/> past its hard limit.</summary>
    public SubscriberOutbox Live { get; } = live;

    /// <summary>False when a cursor was given that this tail does not hold: <see cref="Replay"/> is then every retained event.</summary>
    public bool CursorKnown { get; } = cursorKnown;

    /// <summary>The tail holds the run from its first event, so all retained events are the whole transcript so far.</summary>
    public bool FromRunStart { get; } = fromRunStart;

    public void Dispose() => Interlocked.Exchange(ref _unsubscribe, null)?.Invoke();
}

public static class RunEventTerminals
{
    public static bool IsTerminal(string type) =>
        type is RunEventTypes.RunCompleted or RunEventTypes.RunFailed or RunEventTypes.RunCanceled;
}
