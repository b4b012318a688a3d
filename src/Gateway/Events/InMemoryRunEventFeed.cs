using System.Collections.Concurrent;
using System.Threading.Channels;
using AgentOrchestrator.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.Events;

/// <summary>
/// Per-process tail of each run's events (bounded per run and by run count; finished runs leave after a retention)
/// and fan-out to live subscribers through bounded channels. A subscriber that falls behind by its buffer capacity
/// has its stream ended with <see cref="SubscriberOverflowException"/> rather than slowing the bus consumer; it can
/// resubscribe with its cursor. Lost with the process: see <see cref="IRunEventFeed"/>.
/// </summary>
public sealed class InMemoryRunEventFeed(IOptions<RunEventTailOptions> options, TimeProvider time, ILogger<InMemoryRunEventFeed> logger)
    : IRunEventFeed
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(15);
    private readonly ConcurrentDictionary<string, RunTail> _runs = new(StringComparer.Ordinal);
    private readonly RunEventTailOptions _options = options.Value;
    private readonly Lock _evictionGate = new();
    private long _nextSweepTicks;

    /// <summary>Runs currently held (for tests and diagnostics).</summary>
    public int RunCount => _runs.Count;

    public void Append(RunEventsPublished message)
    {
        var now = time.GetUtcNow();
        while (true)
        {
            var tail = GetOrAddTail(message.TenantId, message.RunId, now);
            lock (tail.Gate)
            {
                if (tail.Removed)
                {
                    continue;
                }
                foreach (var runEvent in message.Events)
                {
                    AppendLocked(tail, runEvent, now);
                }
            }
            break;
        }
        SweepIfDue(now);
    }

    public RunEventSubscription Subscribe(string tenantId, string runId, string? cursor)
    {
        var now = time.GetUtcNow();
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
                var replay = tail.After(cursor);
                if (tail.Terminal)
                {
                    var done = Channel.CreateUnbounded<RunEvent>();
                    done.Writer.TryComplete();
                    return new RunEventSubscription(replay, done.Reader, null);
                }
                var subscriber = new Subscriber(Channel.CreateBounded<RunEvent>(new BoundedChannelOptions(_options.SubscriberBufferCapacity)
                {
                    SingleReader = true,
                    SingleWriter = true,
                    FullMode = BoundedChannelFullMode.Wait,
                }));
                tail.Subscribers.Add(subscriber);
                return new RunEventSubscription(replay, subscriber.Channel.Reader, () => Unsubscribe(tail, subscriber));
            }
        }
    }

    private void AppendLocked(RunTail tail, RunEvent runEvent, DateTimeOffset now)
    {
        if (!tail.TryAdd(runEvent, _options.MaxEventsPerRun))
        {
            GatewayLog.DuplicateEvent(logger, runEvent.Id);
            return;
        }
        tail.LastActivity = now;
        var terminal = RunEventTerminals.IsTerminal(runEvent.Type);
        if (terminal)
        {
            tail.Terminal = true;
            tail.CompletedAt = now;
        }
        for (var i = tail.Subscribers.Count - 1; i >= 0; i--)
        {
            var subscriber = tail.Subscribers[i];
            if (!subscriber.Channel.Writer.TryWrite(runEvent))
            {
                subscriber.Channel.Writer.TryComplete(new SubscriberOverflowException(
                    $"The subscriber fell more than {_options.SubscriberBufferCapacity} events behind and was disconnected; resubscribe with the id of the last event received as cursor."));
                tail.Subscribers.RemoveAt(i);
                GatewayLog.SubscriberOverflow(logger, tail.TenantId, tail.RunId, _options.SubscriberBufferCapacity);
            }
            else if (terminal)
            {
                subscriber.Channel.Writer.TryComplete();
            }
        }
        if (terminal)
        {
            tail.Subscribers.Clear();
        }
    }

    private static void Unsubscribe(RunTail tail, Subscriber subscriber)
    {
        lock (tail.Gate)
        {
            tail.Subscribers.Remove(subscriber);
            subscriber.Channel.Writer.TryComplete();
        }
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
        var aIdle = a.SubscriberCountHint == 0;
        var bIdle = b.SubscriberCountHint == 0;
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
        foreach (var tail in _runs.Values)
        {
            bool expired;
            lock (tail.Gate)
            {
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
            foreach (var subscriber in tail.Subscribers)
            {
                subscriber.Channel.Writer.TryComplete(new SubscriberOverflowException(
                    "The gateway dropped this run's event tail (run limit reached); resubscribe with your cursor."));
            }
            tail.Subscribers.Clear();
        }
        _runs.TryRemove(new KeyValuePair<string, RunTail>(tail.Key, tail));
        GatewayLog.RunEvicted(logger, tail.TenantId, tail.RunId, reason);
    }

    private sealed record Subscriber(Channel<RunEvent> Channel);

    private sealed class RunTail(string key, string tenantId, string runId, DateTimeOffset now)
    {
        private readonly List<RunEvent> _events = [];
        private readonly Dictionary<string, long> _sequenceById = new(StringComparer.Ordinal);
        private long _firstSequence;

        public Lock Gate { get; } = new();

        public string Key { get; } = key;

        public string TenantId { get; } = tenantId;

        public string RunId { get; } = runId;

        public List<Subscriber> Subscribers { get; } = [];

        public int SubscriberCountHint => Subscribers.Count;

        public bool Terminal { get; set; }

        public bool Removed { get; set; }

        public DateTimeOffset? CompletedAt { get; set; }

        public DateTimeOffset LastActivity { get; set; } = now;

        /// <summary>False for an id already retained. Beyond the per-run limit the oldest events (and their ids) go.</summary>
        public bool TryAdd(RunEvent runEvent, int maxEvents)
        {
            if (!_sequenceById.TryAdd(runEvent.Id, _firstSequence + _events.Count))
            {
                return false;
            }
            _events.Add(runEvent);
            var excess = _events.Count - maxEvents;
            if (excess > 0)
            {
                for (var i = 0; i < excess; i++)
                {
                    _sequenceById.Remove(_events[i].Id);
                }
                _events.RemoveRange(0, excess);
                _firstSequence += excess;
            }
            return true;
        }

        public List<RunEvent> After(string? cursor)
        {
            var start = 0;
            if (!string.IsNullOrEmpty(cursor) && _sequenceById.TryGetValue(cursor, out var sequence))
            {
                start = (int)(sequence - _firstSequence) + 1;
            }
            return start >= _events.Count ? [] : _events.GetRange(start, _events.Count - start);
        }
    }
}
