using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.RunStreaming.Ordering;

/// <summary>
/// One run's canonical event order and retained tail. Events are accepted in source order and released in an order
/// that depends only on that input order (so every gateway fed the same stream releases the same sequence, and a
/// cursor means the same position everywhere): duplicates dropped; per step attempt, token i waits for tokens
/// below i and step.completed(n) for tokens below n; the run's terminal event waits for all held events; once any
/// event of attempt N of a step arrives, lower attempts of that step are dropped from delivery and from the tail.
/// Not thread-safe: callers hold <see cref="Gate"/>.
/// </summary>
internal sealed class RunTail(string key, string tenantId, string runId, DateTimeOffset now)
{
    private readonly List<Retained> _retained = [];
    // Cursor positions. Ids of superseded events stay (their position is still a valid resume point); trimmed ones go.
    private readonly Dictionary<string, long> _sequenceById = new(StringComparer.Ordinal);
    // Non-token events seen (tokens are deduplicated by index within their attempt).
    private readonly HashSet<string> _seenIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _latestAttempt = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Step, int Attempt), AttemptOrder> _attempts = [];
    private long _nextSequence;
    private int _held;
    private RunEvent? _heldTerminal;

    public Lock Gate { get; } = new();

    public string Key { get; } = key;

    public string TenantId { get; } = tenantId;

    public string RunId { get; } = runId;

    public List<SubscriberOutbox> Subscribers { get; } = [];

    /// <summary>The terminal event was released: nothing follows.</summary>
    public bool Terminal { get; private set; }

    public bool Removed { get; set; }

    public DateTimeOffset? CompletedAt { get; private set; }

    public DateTimeOffset LastActivity { get; set; } = now;

    /// <summary>When the oldest currently held event was held (null: nothing held).</summary>
    public DateTimeOffset? HeldSince { get; private set; }

    /// <summary>The tail holds the run from its first event: run.started was released and nothing was trimmed since.</summary>
    public bool FromRunStart => _sawRunStart && !_trimmed;

    public int RetainedCount => _retained.Count;

    private bool _sawRunStart;
    private bool _trimmed;

    /// <summary>Takes one event from the source; appends what it releases (possibly several, possibly none) to <paramref name="released"/>.</summary>
    public void Accept(RunEvent runEvent, DateTimeOffset now, int maxEvents, int maxHeldPerAttempt, List<RunEvent> released, ILogger logger)
    {
        if (Terminal)
        {
            OrderingLog.EventAfterEndDropped(logger, RunId, runEvent.Id);
            return;
        }
        if (runEvent.Step is not { } step)
        {
            if (!_seenIds.Add(runEvent.Id))
            {
                OrderingLog.DuplicateEvent(logger, runEvent.Id);
                return;
            }
            if (RunEventTerminals.IsTerminal(runEvent.Type) && _held > 0)
            {
                _heldTerminal ??= runEvent;
                HeldSince ??= now;
                return;
            }
            Release(runEvent, now, maxEvents, released);
            return;
        }

        var latest = _latestAttempt.GetValueOrDefault(step);
        if (runEvent.Attempt < latest)
        {
            OrderingLog.SupersededEventDropped(logger, RunId, step, runEvent.Attempt, runEvent.Id);
            return;
        }
        if (runEvent.Attempt > latest)
        {
            _latestAttempt[step] = runEvent.Attempt;
            Supersede(step, runEvent.Attempt);
        }
        var attemptKey = (step, runEvent.Attempt);
        if (!_attempts.TryGetValue(attemptKey, out var order))
        {
            order = new AttemptOrder();
            _attempts[attemptKey] = order;
        }

        if (runEvent.Type == RunEventTypes.Token)
        {
            if (runEvent.Index < order.NextToken || order.HeldTokens.ContainsKey(runEvent.Index))
            {
                OrderingLog.DuplicateEvent(logger, runEvent.Id);
                return;
            }
            if (runEvent.Index > order.NextToken)
            {
                order.HeldTokens.Add(runEvent.Index, runEvent);
                Hold(now);
                if (order.HeldCount > maxHeldPerAttempt)
                {
                    OrderingLog.HeldEventsForced(logger, TenantId, RunId, order.HeldCount, "too many held in one step attempt");
                    ForceRelease(order, now, maxEvents, released);
                }
                return;
            }
            Release(runEvent, now, maxEvents, released);
            order.NextToken++;
            DrainInOrder(order, now, maxEvents, released);
            return;
        }

        if (!_seenIds.Add(runEvent.Id))
        {
            OrderingLog.DuplicateEvent(logger, runEvent.Id);
            return;
        }
        if (runEvent.Type == RunEventTypes.StepCompleted && runEvent.Index > order.NextToken)
        {
            order.HeldCompleted = runEvent;
            Hold(now);
            return;
        }
        Release(runEvent, now, maxEvents, released);
    }

    /// <summary>Held events older than <paramref name="maxHold"/> go out in index order, as if the missing ones were lost.</summary>
    public void ReleaseOverdue(DateTimeOffset now, TimeSpan maxHold, int maxEvents, List<RunEvent> released, ILogger logger)
    {
        if (HeldSince is not { } since || since + maxHold > now)
        {
            return;
        }
        OrderingLog.HeldEventsForced(logger, TenantId, RunId, _held + (_heldTerminal is null ? 0 : 1), "held too long");
        foreach (var order in _attempts.Values)
        {
            if (order.HeldCount > 0)
            {
                ForceRelease(order, now, maxEvents, released);
            }
        }
        ReleaseHeldTerminal(now, maxEvents, released);
    }

    /// <summary>Retained events after <paramref name="cursor"/>; an unknown cursor gives every retained event and known = false.</summary>
    public List<RunEvent> After(string? cursor, out bool known)
    {
        var start = 0;
        known = true;
        if (!string.IsNullOrEmpty(cursor))
        {
            if (_sequenceById.TryGetValue(cursor, out var sequence))
            {
                start = FirstAfter(sequence);
            }
            else
            {
                known = false;
            }
        }
        var events = new List<RunEvent>(_retained.Count - start);
        for (var i = start; i < _retained.Count; i++)
        {
            events.Add(_retained[i].Event);
        }
        return events;
    }

    private int FirstAfter(long sequence)
    {
        int low = 0, high = _retained.Count;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (_retained[mid].Sequence <= sequence)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }
        return low;
    }

    private void Hold(DateTimeOffset now)
    {
        _held++;
        HeldSince ??= now;
    }

    private void Supersede(string step, int attempt)
    {
        foreach (var (attemptKey, order) in _attempts.Where(a => a.Key.Step == step && a.Key.Attempt < attempt).ToList())
        {
            _held -= order.HeldCount;
            _attempts.Remove(attemptKey);
        }
        _retained.RemoveAll(r => r.Event.Step == step && r.Event.Attempt < attempt);
        if (_held == 0 && _heldTerminal is null)
        {
            HeldSince = null;
        }
    }

    private void DrainInOrder(AttemptOrder order, DateTimeOffset now, int maxEvents, List<RunEvent> released)
    {
        while (order.HeldTokens.Remove(order.NextToken, out var next))
        {
            _held--;
            Release(next, now, maxEvents, released);
            order.NextToken++;
        }
        if (order.HeldCompleted is { } completed && completed.Index <= order.NextToken)
        {
            order.HeldCompleted = null;
            _held--;
            Release(completed, now, maxEvents, released);
        }
        AfterHeldChange(now, maxEvents, released);
    }

    private void ForceRelease(AttemptOrder order, DateTimeOffset now, int maxEvents, List<RunEvent> released)
    {
        foreach (var (index, held) in order.HeldTokens)
        {
            Release(held, now, maxEvents, released);
            order.NextToken = index + 1;
        }
        _held -= order.HeldTokens.Count;
        order.HeldTokens.Clear();
        if (order.HeldCompleted is { } completed)
        {
            order.HeldCompleted = null;
            _held--;
            Release(completed, now, maxEvents, released);
        }
        AfterHeldChange(now, maxEvents, released);
    }

    private void AfterHeldChange(DateTimeOffset now, int maxEvents, List<RunEvent> released)
    {
        if (_held > 0)
        {
            return;
        }
        ReleaseHeldTerminal(now, maxEvents, released);
    }

    private void ReleaseHeldTerminal(DateTimeOffset now, int maxEvents, List<RunEvent> released)
    {
        HeldSince = null;
        if (_heldTerminal is { } terminal)
        {
            _heldTerminal = null;
            Release(terminal, now, maxEvents, released);
        }
    }

    private void Release(RunEvent runEvent, DateTimeOffset now, int maxEvents, List<RunEvent> released)
    {
        var sequence = _nextSequence++;
        if (runEvent.Trace is { } trace)
        {
            // Subscribers get the delta with its trace ending here; the tail keeps it without (replays are not timed).
            released.Add(runEvent with
            {
                Trace = [.. trace, new PathStamp(TokenPath.GatewayReleased, (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond)],
            });
            runEvent = runEvent with { Trace = null };
        }
        else
        {
            released.Add(runEvent);
        }
        _retained.Add(new Retained(sequence, runEvent));
        _sequenceById[runEvent.Id] = sequence;
        if (runEvent.Type == RunEventTypes.RunStarted)
        {
            _sawRunStart = true;
        }
        if (RunEventTerminals.IsTerminal(runEvent.Type))
        {
            Terminal = true;
            CompletedAt = now;
        }
        var excess = _retained.Count - maxEvents;
        if (excess > 0)
        {
            for (var i = 0; i < excess; i++)
            {
                _sequenceById.Remove(_retained[i].Event.Id);
            }
            _retained.RemoveRange(0, excess);
            _trimmed = true;
        }
    }

    private readonly record struct Retained(long Sequence, RunEvent Event);

    private sealed class AttemptOrder
    {
        public long NextToken { get; set; }

        public SortedDictionary<long, RunEvent> HeldTokens { get; } = [];

        public RunEvent? HeldCompleted { get; set; }

        public int HeldCount => HeldTokens.Count + (HeldCompleted is null ? 0 : 1);
    }
}
