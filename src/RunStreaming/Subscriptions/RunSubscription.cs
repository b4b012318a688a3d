using System.Runtime.CompilerServices;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Subscribers;
using AgentOrchestrator.RunStreaming.Telemetry;

namespace AgentOrchestrator.RunStreaming.Subscriptions;

/// <summary>One open subscription, registered on this gateway. Dispose (or finish <see cref="EventsAsync"/>) when the connection ends.</summary>
public sealed class RunSubscription : IDisposable
{
    private readonly RunEventStreamer _streamer;
    private readonly LocalSubscriber _subscriber;
    private readonly DeliveryMetrics _metrics;
    private readonly bool _timed;
    private int _disposed;

    internal RunSubscription(RunEventStreamer streamer, LocalSubscriber subscriber, DeliveryMetrics metrics, string tenantId, string runId, string? cursor,
        bool timed)
    {
        _timed = timed;
        _streamer = streamer;
        _subscriber = subscriber;
        _metrics = metrics;
        TenantId = tenantId;
        RunId = runId;
        Cursor = cursor;
    }

    public string TenantId { get; }

    public string RunId { get; }

    public string SubscriptionId => _subscriber.SubscriptionId;

    /// <summary>Where the stream starts: the request's cursor or, without one, the subscription's acknowledged position.</summary>
    public string? Cursor { get; }

    /// <summary>
    /// Events after <see cref="Cursor"/> (a cursor this gateway does not hold gets stream.reset, then the whole
    /// transcript), then live ones, in the run's canonical order; ends after run.completed, run.failed or run.canceled.
    /// Throws <see cref="Delivery.SlowConsumerException"/> when the subscriber falls past its hard limit. The subscriber
    /// is recorded as disconnected when the enumeration ends.
    /// </summary>
    public async IAsyncEnumerable<RunEvent> EventsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var runEvent in _streamer.StreamAsync(TenantId, RunId, Cursor, _subscriber, _timed, cancellationToken))
            {
                yield return runEvent;
            }
        }
        finally
        {
            Dispose();
        }
    }

    /// <summary>The client has rendered everything up to <paramref name="cursor"/> (validate it first with <see cref="RunSubscriptions.CheckAckCursor"/>).</summary>
    public void Acknowledge(string cursor)
    {
        if (_subscriber.Acknowledge(cursor) is { } lag)
        {
            _metrics.Acknowledged(lag);
        }
    }

    /// <summary>The connection ended; the record stays (for resume by subscription id) until the retention passes.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _subscriber.Disconnected();
        }
    }
}
