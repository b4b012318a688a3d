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
    // Finished step attempts whose deltas are kept as one text (compact resume); superseded ones keep positions only.
    private readonly Dictionary<(string Step, int Attempt), CompactedAttempt> _compacted = [];
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

    /// <summary>
    /// Retained events after <paramref name="cursor"/>, in release order; an unknown cursor gives every retained event
    /// and known = false. A finished step attempt comes as one token event carrying the deltas the cursor does not
    /// cover (id <see cref="RunEventIds.ForTokenRange"/>, the last delta's index, the first one's offset), placed where
    /// its first such delta was released. A range cursor (a merged or compacted token event) covers its first delta's
    /// position and every delta of its attempt up to its last index.
    /// </summary>
    public List<RunEvent> After(string? cursor, out bool known)
    {
        known = true;
        var position = -1L;
        (string Step, int Attempt, long UpTo)? covered = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            if (_sequenceById.TryGetValue(cursor, out var sequence))
            {
                position = sequence;
            }
            else if (TryResolveTokenCursor(cursor, out var resolved, out var coveredTokens))
            {
                position = resolved;
                covered = coveredTokens;
            }
            else
            {
                known = false;
            }
        }
        var events = new List<RunEvent>(Math.Max(0, _retained.Count - FirstAfter(position)));
        // Partial attempts start after their entry's place; they are merged in by position at the end.
        List<(long Position, RunEvent Event)>? partial = null;
        foreach (var retained in _retained)
        {
            if (retained.Compacted is { } compacted)
            {
                var upTo = covered is { } c && c.Step == compacted.Step && c.Attempt == compacted.Attempt ? c.UpTo : -1;
                var first = compacted.FirstAfter(position, upTo);
                if (first < compacted.Count)
                {
                    var range = compacted.Range(RunId, TenantId, first);
                    if (compacted.PositionOf(first) == retained.Sequence)
                    {
                        events.Add(range);
                    }
                    else
                    {
                        (partial ??= []).Add((compacted.PositionOf(first), range));
                    }
                }
                continue;
            }
            if (retained.Sequence <= position)
            {
                continue;
            }
            if (covered is { } skip && retained.Event!.Type == RunEventTypes.Token && retained.Event.Step == skip.Step
                && retained.Event.Attempt == skip.Attempt && retained.Event.Index <= skip.UpTo)
            {
                continue;
            }
            events.Add(retained.Event!);
        }
        if (partial is null)
        {
            return events;
        }
        partial.Sort((a, b) => a.Position.CompareTo(b.Position));
        return MergeByPosition(events, partial);
    }

    /// <summary>Puts partial compacted attempts among the other replayed events by the position of their first delta.</summary>
    private List<RunEvent> MergeByPosition(List<RunEvent> events, List<(long Position, RunEvent Event)> partial)
    {
        var merged = new List<RunEvent>(events.Count + partial.Count);
        var next = 0;
        foreach (var runEvent in events)
        {
            var at = PositionOfReplayed(runEvent);
            while (next < partial.Count && partial[next].Position < at)
            {
                merged.Add(partial[next++].Event);
            }
            merged.Add(runEvent);
        }
        while (next < partial.Count)
        {
            merged.Add(partial[next++].Event);
        }
        return merged;
    }

    private long PositionOfReplayed(RunEvent runEvent)
    {
        if (_sequenceById.TryGetValue(runEvent.Id, out var sequence))
        {
            return sequence;
        }
        // A whole compacted attempt, replayed at its first delta's position.
        return runEvent.Step is { } step && _compacted.TryGetValue((step, runEvent.Attempt), out var compacted) ? compacted.PositionOf(0) : long.MaxValue;
    }

    /// <summary>A token id ("…/token/i") or range id ("…/token/a-b") of this run whose delta's position is known.</summary>
    private bool TryResolveTokenCursor(string cursor, out long position, out (string Step, int Attempt, long UpTo) covered)
    {
        position = -1;
        covered = default;
        if (!RunEventIds.TryParseToken(cursor, RunId, out var step, out var attempt, out var first, out var last))
        {
            return false;
        }
        if (_compacted.TryGetValue((step, attempt), out var compacted))
        {
            if (first < 0 || first >= compacted.Count)
            {
                return false;
            }
            position = compacted.PositionOf((int)first);
            covered = (step, attempt, last);
            return true;
        }
        if (first != last && _sequenceById.TryGetValue(RunEventIds.ForStep(RunId, step, attempt, RunEventTypes.Token, first), out var sequence))
        {
            position = sequence;
            covered = (step, attempt, last);
            return true;
        }
        return false;
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
        _retained.RemoveAll(r => r.Step == step && r.Attempt < attempt);
        foreach (var (key, compacted) in _compacted)
        {
            if (key.Step == step && key.Attempt < attempt)
            {
                compacted.Supersede(); // its positions stay: its ids remain valid cursors
            }
        }
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
        if (runEvent.Type == RunEventTypes.StepCompleted && runEvent.Step is { } step)
        {
            Compact(step, runEvent.Attempt, runEvent);
        }
        var excess = _retained.Count - maxEvents;
        if (excess > 0)
        {
            for (var i = 0; i < excess; i++)
            {
                Forget(_retained[i]);
            }
            _retained.RemoveRange(0, excess);
            _trimmed = true;
        }
    }

    /// <summary>
    /// A finished attempt's deltas (all of them, 0..n-1, retained) become one entry at the first delta's position:
    /// their text once (the step.completed text when it matches) plus a position and an offset per delta, instead of an
    /// event object and an id per delta.
    /// </summary>
    private void Compact(string step, int attempt, RunEvent completed)
    {
        if (completed.Index < 2 || _compacted.ContainsKey((step, attempt)))
        {
            return;
        }
        var count = (int)completed.Index;
        var indexes = new int[count];
        var found = 0;
        for (var i = 0; i < _retained.Count && found <= count; i++)
        {
            if (_retained[i].Event is { Type: RunEventTypes.Token } token && token.Step == step && token.Attempt == attempt)
            {
                if (token.Index != found || found == count)
                {
                    return; // a delta missing, trimmed or out of order: keep the events as they are
                }
                indexes[found++] = i;
            }
        }
        if (found != count)
        {
            return;
        }
        var positions = new long[count];
        var offsets = new int[count];
        var text = new System.Text.StringBuilder();
        for (var k = 0; k < count; k++)
        {
            var token = _retained[indexes[k]].Event!;
            positions[k] = _retained[indexes[k]].Sequence;
            offsets[k] = text.Length;
            text.Append(token.Text);
            _sequenceById.Remove(token.Id);
        }
        var whole = text.ToString();
        var first = _retained[indexes[0]].Event!;
        var compacted = new CompactedAttempt(step, attempt, first.Agent, completed.Text == whole ? completed.Text : whole, positions, offsets, first.Ts);
        _compacted[(step, attempt)] = compacted;
        var keep = new List<Retained>(_retained.Count - count + 1);
        var next = 0;
        for (var i = 0; i < _retained.Count; i++)
        {
            if (next < count && indexes[next] == i)
            {
                if (next++ == 0)
                {
                    keep.Add(new Retained(positions[0], null, compacted));
                }
                continue;
            }
            keep.Add(_retained[i]);
        }
        _retained.Clear();
        _retained.AddRange(keep);
    }

    private void Forget(Retained retained)
    {
        if (retained.Compacted is { } compacted)
        {
            _compacted.Remove((compacted.Step, compacted.Attempt));
        }
        else
        {
            _sequenceById.Remove(retained.Event!.Id);
        }
    }

    /// <summary>A released event at its position, or a compacted attempt at its first delta's position.</summary>
    private readonly record struct Retained(long Sequence, RunEvent? Event, CompactedAttempt? Compacted = null)
    {
        public string? Step => Event?.Step ?? Compacted?.Step;

        public int Attempt => Event?.Attempt ?? Compacted!.Attempt;
    }

    private sealed class AttemptOrder
    {
        public long NextToken { get; set; }

        public SortedDictionary<long, RunEvent> HeldTokens { get; } = [];

        public RunEvent? HeldCompleted { get; set; }

        public int HeldCount => HeldTokens.Count + (HeldCompleted is null ? 0 : 1);
    }
}
