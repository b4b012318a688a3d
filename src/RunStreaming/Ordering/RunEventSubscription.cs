using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;

namespace AgentOrchestrator.RunStreaming.Ordering;

/// <summary>A snapshot of retained events plus a live queue; nothing is in both, nothing falls between them.</summary>
internal sealed class RunEventSubscription(IReadOnlyList<RunEvent> replay, SubscriberOutbox live, bool cursorKnown, bool fromRunStart,
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
