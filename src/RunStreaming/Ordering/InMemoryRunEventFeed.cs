using System.Collections.Concurrent;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.RunStreaming.Ordering;

/// <summary>
/// Per-process canonical order and tail of each run (<see cref="RunTail"/>), bounded per run and by run count;
/// finished runs stay <see cref="RunEventTailOptions.CompletedRunRetention"/>, active ones as long as they are active.
/// Released events go to each subscriber's <see cref="SubscriberOutbox"/>, which never blocks the source.
/// </summary>
internal sealed class InMemoryRunEventFeed(IOptions<RunEventTailOptions> options, IOptions<DeliveryOptions> delivery, TimeProvider time,
    ILogger<InMemoryRunEventFeed> logger, DeliveryMetrics? metrics = null, RunStreamMetrics? streamMetrics = null)
    : IRunEventFeed
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, RunTail> _runs = new(StringComparer.Ordinal);
    private readonly RunEventTailOptions _options = options.Value;
    private readonly Lock _evictionGate = new();
    private long _nextSweepTicks;

    /// <summary>Runs currently held (for tests and diagnostics).</summary>
    public int RunCount => _runs.Count;

    public void Append(RunEventsPublished message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var now = time.GetUtcNow();
        var released = new List<RunEvent>(message.Events.Count);
        while (true)
        {
            var tail = GetOrAddTail(message.TenantId, message.RunId, now);
            lock (tail.Gate)
            {
                if (tail.Removed)
                {
                    continue;
                }
                tail.LastActivity = now;
                foreach (var runEvent in message.Events)
                {
                    tail.Accept(runEvent, now, _options.MaxEventsPerRun, _options.MaxHeldPerStepAttempt, released, logger);
                }
                Push(tail, released);
            }
            break;
        }
        SweepIfDue(now);
    }

    public RunEventSubscription Subscribe(string tenantId, string runId, string? cursor, SubscriberOutbox? live = null)
    {
        var now = time.GetUtcNow();
        live ??= new SubscriberOutbox(delivery.Value, metrics);
        while (true)
        {
            var tail = GetOrAddTail(tenantId, runId, now);
            lock (tail.Gate)
            {
                if (tail.Removed)
                {
                    continue;
                }
                tail.LastActivity = now;
                var replay = tail.After(cursor, out var known);
                if (tail.Terminal)
                {
                    live.Complete();
                    return new RunEventSubscription(replay, live, known, tail.FromRunStart, null);
                }
                tail.Subscribers.Add(live);
                return new RunEventSubscription(replay, live, known, tail.FromRunStart, () => Unsubscribe(tail, live));
            }
        }
    }

    /// <summary>
    /// Pushes released events to the run's subscribers (under the tail's lock, so every subscriber sees the release order).
    /// A traced token delta records its release hop, is stamped per subscriber as it is queued, and records its enqueue
    /// hop once, at the last subscriber: the fan-out time (a record per delivery would cost the fan-out path itself).
    /// </summary>
    private void Push(RunTail tail, List<RunEvent> released)
    {
        foreach (var runEvent in released)
        {
            var trace = streamMetrics is null ? null : runEvent.Trace;
            if (trace is { Count: >= 2 })
            {
                streamMetrics!.TokenHop(trace[^2], trace[^1]);
            }
            long lastEnqueuedAtUs = 0;
            for (var i = tail.Subscribers.Count - 1; i >= 0; i--)
            {
                var enqueuedAtUs = trace is null ? 0 : streamMetrics!.NowUs();
                if (tail.Subscribers[i].Enqueue(runEvent, enqueuedAtUs))
                {
                    lastEnqueuedAtUs = enqueuedAtUs;
                }
                else
                {
                    tail.Subscribers.RemoveAt(i);
                }
            }
            if (lastEnqueuedAtUs != 0 && trace is { Count: > 0 })
            {
                streamMetrics!.TokenHop(TokenPath.GatewayEnqueued, trace[^1].AtUs, lastEnqueuedAtUs);
            }
        }
        released.Clear();
        if (tail.Terminal)
        {
            foreach (var subscriber in tail.Subscribers)
            {
                subscriber.Complete();
            }
            tail.Subscribers.Clear();
        }
    }

    private static void Unsubscribe(RunTail tail, SubscriberOutbox subscriber)
    {
        lock (tail.Gate)
        {
            tail.Subscribers.Remove(subscriber);
        }
        subscriber.Complete();
    }

    private RunTail GetOrAddTail(string tenantId, string runId, DateTimeOffset now)
    {
        var key = RunWorkflowIds.For(tenantId, runId);
        if (_runs.TryGetValue(key, out var existing))
        {
            return existing;
        }
        var tail = _runs.GetOrAdd(key, _ => new RunTail(key, tenantId, runId, now));
        if (_runs.Count > _options.MaxRuns)
        {
            EvictForCapacity(tail);
        }
        return tail;
    }

    /// <summary>Over the run limit: finished runs leave first (oldest first), then the least recently active ones.</summary>
    private void EvictForCapacity(RunTail justAdded)
    {
        lock (_evictionGate)
        {
            while (_runs.Count > _options.MaxRuns)
            {
                RunTail? victim = null;
                foreach (var candidate in _runs.Values)
                {
                    if (ReferenceEquals(candidate, justAdded))
                    {
                        continue;
                    }
                    if (victim is null || EvictsBefore(candidate, victim))
                    {
                        victim = candidate;
                    }
                }
                if (victim is null)
                {
                    return;
                }
                Remove(victim, "run limit reached");
            }
        }
    }

    private static bool EvictsBefore(RunTail a, RunTail b)
    {
        // Unlocked reads of a few fields: a slightly stale view only changes which old run goes first.
        if (a.Terminal != b.Terminal)
        {
            return a.Terminal;
        }
        var aIdle = a.Subscribers.Count == 0;
        var bIdle = b.Subscribers.Count == 0;
        if (aIdle != bIdle)
        {
            return aIdle;
        }
        return a.LastActivity < b.LastActivity;
    }

    private void SweepIfDue(DateTimeOffset now)
    {
        var next = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextSweepTicks, (now + SweepInterval).UtcTicks, next) != next)
        {
            return;
        }
        var released = new List<RunEvent>();
        foreach (var tail in _runs.Values)
        {
            bool expired;
            lock (tail.Gate)
            {
                tail.ReleaseOverdue(now, _options.MaxHoldTime, _options.MaxEventsPerRun, released, logger);
                Push(tail, released);
                expired = tail.Subscribers.Count == 0 && (tail.Terminal
                    ? tail.CompletedAt + _options.CompletedRunRetention <= now
                    : tail.LastActivity + _options.IdleRunRetention <= now);
            }
            if (expired)
            {
                Remove(tail, tail.Terminal ? "finished run past retention" : "idle run past retention");
            }
        }
    }

    private void Remove(RunTail tail, string reason)
    {
        lock (tail.Gate)
        {
            tail.Removed = true;
            // Their cursors stay valid elsewhere; here they will get stream.reset and the durable transcript.
            foreach (var subscriber in tail.Subscribers)
            {
                subscriber.Fail("[slow_consumer] The gateway dropped this run's event tail (run limit reached); subscribe again with your cursor.");
            }
            tail.Subscribers.Clear();
        }
        _runs.TryRemove(new KeyValuePair<string, RunTail>(tail.Key, tail));
        OrderingLog.RunEvicted(logger, tail.TenantId, tail.RunId, reason);
    }
}
