using System.Threading.Channels;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Gateway.Events;

/// <summary>
/// Where the gateway keeps each run's recent events and whom it pushes new ones to. One implementation today
/// (<see cref="InMemoryRunEventFeed"/>, per process); the realtime-delivery issue adds one whose tail survives the loss
/// of a gateway instance. Runs are keyed by tenant and run id together.
/// </summary>
public interface IRunEventFeed
{
    /// <summary>Appends a bus message's events (dropping ids already seen) and pushes them to the run's subscribers. Never blocks on a subscriber.</summary>
    void Append(RunEventsPublished message);

    /// <summary>
    /// The retained events after <paramref name="cursor"/> (an event id; null/empty or an id no longer retained: all
    /// retained events) and, atomically with that snapshot, a live feed of every later event. Dispose to unsubscribe.
    /// </summary>
    RunEventSubscription Subscribe(string tenantId, string runId, string? cursor);
}

/// <summary>A snapshot of retained events plus a live channel; nothing is in both, nothing falls between them.</summary>
public sealed class RunEventSubscription(IReadOnlyList<RunEvent> replay, ChannelReader<RunEvent> live, Action? unsubscribe) : IDisposable
{
    private Action? _unsubscribe = unsubscribe;

    public IReadOnlyList<RunEvent> Replay { get; } = replay;

    /// <summary>Completes after a terminal event; completes with <see cref="SubscriberOverflowException"/> if the subscriber fell too far behind.</summary>
    public ChannelReader<RunEvent> Live { get; } = live;

    public void Dispose() => Interlocked.Exchange(ref _unsubscribe, null)?.Invoke();
}

public sealed class SubscriberOverflowException : Exception
{
    public SubscriberOverflowException()
    {
    }

    public SubscriberOverflowException(string message)
        : base(message)
    {
    }

    public SubscriberOverflowException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

public static class RunEventTerminals
{
    public static bool IsTerminal(string type) =>
        type is RunEventTypes.RunCompleted or RunEventTypes.RunFailed or RunEventTypes.RunCanceled;
}
