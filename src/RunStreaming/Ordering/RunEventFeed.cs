using System.Collections.Concurrent;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Live;
using AgentOrchestrator.RunStreaming.Log;
using AgentOrchestrator.RunStreaming.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.RunStreaming.Ordering;

/// <summary>
/// This gateway's runs: only those its subscribers watch. The first subscriber of a run binds the run's live routing,
/// reads the run's log and folds its entries, in sequence order, into the run's canonical tail (<see cref="RunTail"/>);
/// later entries come live. Entries are folded strictly in sequence order: one that arrives ahead of a missing one
/// waits, and after <see cref="RunEventTailOptions.GapGrace"/> the missing ones are read from the log. Because the
/// fold depends only on the log's order, every gateway computes the same positions and a cursor means the same on
/// all of them. A run nobody watches for <see cref="RunEventTailOptions.UnwatchedRetention"/> is dropped (and its
/// routing unbound): a gateway's memory and work grow with its own subscribers' runs, not with all traffic.
/// </summary>
internal sealed partial class RunEventFeed : IRunEventFeed, IHostedService, IDisposable
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, WatchedRun> _runs = new(StringComparer.Ordinal);
    private readonly IRunEventLog _log;
    private readonly IRunEventLiveSource _live;
    private readonly RunEventTailOptions _options;
    private readonly IOptions<DeliveryOptions> _delivery;
    private readonly TimeProvider _time;
    private readonly RunEventPathMetrics _metrics;
    private readonly RunStreamMetrics _streamMetrics;
    private readonly DeliveryMetrics? _deliveryMetrics;
    private readonly ILogger<RunEventFeed> _logger;
    private readonly Lock _evictionGate = new();
    private ITimer? _sweep;

    public RunEventFeed(IRunEventLog log, IRunEventLiveSource live, IOptions<RunEventTailOptions> options, IOptions<DeliveryOptions> delivery,
        TimeProvider time, RunEventPathMetrics metrics, RunStreamMetrics streamMetrics, ILogger<RunEventFeed> logger, DeliveryMetrics? deliveryMetrics = null)
    {
        _streamMetrics = streamMetrics;
        _log = log;
        _live = live;
        _options = options.Value;
        _delivery = delivery;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _deliveryMetrics = deliveryMetrics;
        _live.Appended += OnAppended;
        _live.Reconnected += OnReconnected;
    }

    /// <summary>Runs currently watched (for tests and diagnostics).</summary>
    public int RunCount => _runs.Count;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _sweep = _time.CreateTimer(_ => Sweep(), null, SweepInterval, SweepInterval);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _sweep?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _sweep?.Dispose();
        _live.Appended -= OnAppended;
        _live.Reconnected -= OnReconnected;
    }

    public async ValueTask<RunEventSubscription> SubscribeAsync(string tenantId, string runId, string? cursor, SubscriberOutbox? live,
        CancellationToken cancellationToken)
    {
        live ??= new SubscriberOutbox(_delivery.Value, _deliveryMetrics);
        while (true)
        {
            var run = GetOrWatch(tenantId, runId);
            try
            {
                await run.Loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new RunStreamUnavailableException("The run's events cannot be read right now (the run-event log or the live routing is unreachable); try again shortly.", e);
            }
            lock (run.Gate)
            {
                if (run.Removed)
                {
                    continue;
                }
                var replay = run.Tail.After(cursor, out var known);
                if (run.Tail.Terminal)
                {
                    live.Complete();
                    return new RunEventSubscription(replay, live, known, run.Tail.FromRunStart, null);
                }
                run.Tail.Subscribers.Add(live);
                run.UnwatchedSince = null;
                return new RunEventSubscription(replay, live, known, run.Tail.FromRunStart, () => Unsubscribe(run, live));
            }
        }
    }

    private WatchedRun GetOrWatch(string tenantId, string runId)
    {
        var key = RunWorkflowIds.For(tenantId, runId);
        if (_runs.TryGetValue(key, out var existing))
        {
            return existing;
        }
        var created = new WatchedRun(key, tenantId, runId, _time.GetUtcNow()) { QuietCheckInterval = _options.QuietCheckMinInterval };
        var run = _runs.GetOrAdd(key, created);
        if (ReferenceEquals(run, created))
        {
            _metrics.WatchedRuns(1);
            if (_runs.Count > _options.MaxRuns)
            {
                EvictForCapacity(created);
            }
            _ = LoadAsync(created);
        }
        return run;
    }

    /// <summary>Bind first, then read: an entry appended after the read was sent after the binding, so it arrives live.</summary>
    private async Task LoadAsync(WatchedRun run)
    {
        try
        {
            await _live.WatchAsync(run.TenantId, run.RunId, CancellationToken.None).ConfigureAwait(false);
            _metrics.LogRead("load");
            var slice = await _log.ReadAsync(run.TenantId, run.RunId, 1, CancellationToken.None).ConfigureAwait(false);
            var released = new List<RunEvent>();
            lock (run.Gate)
            {
                run.Epoch = slice.Epoch;
                FoldSlice(run, slice, released);
                run.Loading = false;
                DrainPending(run, released);
                Push(run, released);
            }
            run.Loaded.TrySetResult();
        }
        catch (Exception e)
        {
            LoadFailed(_logger, e, run.TenantId, run.RunId);
            run.Loaded.TrySetException(e);
            Remove(run, "load failed");
        }
    }

    private void OnAppended(RunLogAppended appended)
    {
        var message = appended.Message;
        if (!_runs.TryGetValue(RunWorkflowIds.For(message.TenantId, message.RunId), out var run))
        {
            return; // unwatched a moment ago: a late delivery
        }
        using var span = RunEventTracing.StartReceive(appended.TraceParent);
        _streamMetrics.BusConsumed(message, _live.Transport);
        // Only entries that arrive live carry the path's stamps on: one read from the log has no hop to report.
        appended = appended with { Message = _streamMetrics.Received(message) };
        var released = new List<RunEvent>();
        lock (run.Gate)
        {
            if (run.Removed)
            {
                return;
            }
            run.LastEntryAt = _time.GetUtcNow();
            run.QuietCheckInterval = _options.QuietCheckMinInterval;
            if (run.Loading)
            {
                run.Pending[appended.Seq] = appended;
                return;
            }
            Offer(run, appended, released);
            Push(run, released);
        }
    }

    private void OnReconnected()
    {
        // Entries sent while the live connection was away never arrive: every watched run reads them from the log.
        foreach (var run in _runs.Values)
        {
            lock (run.Gate)
            {
                if (!run.Loading && !run.Removed)
                {
                    RequestRead(run, "catch-up", TimeSpan.Zero);
                }
            }
        }
    }

    /// <summary>A live entry, once loaded: folded if it is next, kept if it is ahead (and the gap read soon), dropped if seen.</summary>
    private void Offer(WatchedRun run, RunLogAppended appended, List<RunEvent> released)
    {
        if (run.Epoch is null)
        {
            run.Epoch = appended.Epoch; // the run had no log when it was read: this entry's log is the run's from now on
        }
        else if (appended.Epoch != run.Epoch)
        {
            // The log was replaced (expired or lost) - or this is a late entry of the old one: the log says which.
            RequestRead(run, "catch-up", TimeSpan.Zero);
            return;
        }
        if (appended.Seq < run.NextSeq)
        {
            return; // already folded (read from the log, or delivered twice)
        }
        run.Pending[appended.Seq] = appended;
        DrainPending(run, released);
        if (run.Pending.Count > 0)
        {
            RequestRead(run, "gap", _options.GapGrace);
        }
    }

    /// <summary>Folds pending entries while the next one is there; drops those of another epoch or already folded.</summary>
    private void DrainPending(WatchedRun run, List<RunEvent> released)
    {
        while (run.Pending.Count > 0)
        {
            var (seq, first) = run.Pending.First();
            if (run.Epoch is null)
            {
                run.Epoch = first.Epoch;
            }
            if (first.Epoch != run.Epoch || seq < run.NextSeq)
            {
                run.Pending.Remove(seq);
                continue;
            }
            if (seq > run.NextSeq)
            {
                return;
            }
            run.Pending.Remove(seq);
            Fold(run, first.Message, seq, released);
        }
    }

    private void FoldSlice(WatchedRun run, RunLogSlice slice, List<RunEvent> released)
    {
        foreach (var entry in slice.Entries)
        {
            if (entry.Seq < run.NextSeq)
            {
                continue;
            }
            if (entry.Seq > run.NextSeq)
            {
                // The log has a hole (an entry that could not be read, or lost): never wait for it, and say so.
                EntriesLost(_logger, run.TenantId, run.RunId, run.NextSeq, entry.Seq - 1);
                _metrics.UnreadableEntry();
                run.NextSeq = entry.Seq;
            }
            Fold(run, entry.Message, entry.Seq, released);
        }
    }

    private void Fold(WatchedRun run, RunEventsPublished message, long seq, List<RunEvent> released)
    {
        run.NextSeq = seq + 1;
        if (!RunEventsValidation.BelongsTo(message, run.TenantId, run.RunId, out var problem))
        {
            _metrics.UnreadableEntry();
            EntrySkipped(_logger, run.TenantId, run.RunId, seq, problem);
            return;
        }
        var now = _time.GetUtcNow();
        foreach (var runEvent in message.Events)
        {
            run.Tail.Accept(runEvent, now, _options.MaxEventsPerRun, _options.MaxHeldPerStepAttempt, released, _logger);
        }
    }

    /// <summary>Schedules one read of the log from where the run stands (after <paramref name="delay"/>), unless one is pending.</summary>
    private void RequestRead(WatchedRun run, string reason, TimeSpan delay)
    {
        if (run.Reading)
        {
            run.ReadAgain = true;
            return;
        }
        run.Reading = true;
        _ = ReadAsync(run, reason, delay);
    }

    private async Task ReadAsync(WatchedRun run, string reason, TimeSpan delay)
    {
        while (true)
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _time).ConfigureAwait(false);
            }
            long from;
            lock (run.Gate)
            {
                if (run.Removed || (reason == "gap" && run.Pending.Count == 0))
                {
                    run.Reading = false;
                    return; // the gap closed by itself (the entry arrived live) in the meantime
                }
                run.ReadAgain = false;
                from = run.NextSeq;
            }
            RunLogSlice? slice = null;
            try
            {
                _metrics.LogRead(reason);
                slice = await _log.ReadAsync(run.TenantId, run.RunId, from, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                ReadFailed(_logger, e, run.TenantId, run.RunId, from);
            }
            var released = new List<RunEvent>();
            lock (run.Gate)
            {
                if (run.Removed)
                {
                    run.Reading = false;
                    return;
                }
                var reset = false;
                if (slice is { Epoch: { } epoch } && run.Epoch is not null && epoch != run.Epoch)
                {
                    ResetToEpoch(run, epoch);
                    reset = true;
                }
                else if (slice is not null)
                {
                    run.Epoch ??= slice.Epoch;
                    var before = run.NextSeq;
                    FoldSlice(run, slice, released);
                    if (run.NextSeq > before)
                    {
                        _metrics.GapFilled((int)(run.NextSeq - before));
                        run.QuietCheckInterval = _options.QuietCheckMinInterval;
                    }
                    DrainPending(run, released);
                    if (run.Pending.Count > 0 && run.Pending.First().Key > run.NextSeq && slice.Head >= run.Pending.First().Key - 1)
                    {
                        // The log does not have what lies between: never wait for it, and say so.
                        var next = run.Pending.First().Key;
                        EntriesLost(_logger, run.TenantId, run.RunId, run.NextSeq, next - 1);
                        _metrics.UnreadableEntry();
                        run.NextSeq = next;
                        DrainPending(run, released);
                    }
                }
                Push(run, released);
                // Read again: someone asked while this read ran, the log was replaced (read it from the start), or a
                // read failed while entries wait for a gap to close (after a pause).
                var retry = slice is null && run.Pending.Count > 0;
                if (!reset && !run.ReadAgain && !retry)
                {
                    run.Reading = false;
                    return;
                }
                reason = reset || run.ReadAgain ? "catch-up" : "gap";
                delay = retry && !reset && !run.ReadAgain ? _options.QuietCheckMinInterval : TimeSpan.Zero;
                run.ReadAgain = false;
            }
        }
    }

    /// <summary>The run's log was replaced: the tail starts over; subscribers resume (their cursors now get stream.reset).</summary>
    private void ResetToEpoch(WatchedRun run, string epoch)
    {
        EpochChanged(_logger, run.TenantId, run.RunId, run.Epoch ?? "(none)", epoch);
        _metrics.EpochReset();
        var subscribers = run.Tail.Subscribers.ToList();
        run.Tail = new RunTail(run.Key, run.TenantId, run.RunId, _time.GetUtcNow());
        run.Epoch = epoch;
        run.NextSeq = 1;
        run.Pending.Clear();
        foreach (var subscriber in subscribers)
        {
            subscriber.Fail("[slow_consumer] The run's event log was replaced on the server; subscribe again with your cursor.");
        }
    }

    /// <summary>
    /// Pushes released events to the run's subscribers (under the run's lock, so every subscriber sees the release order).
    /// A traced token delta (one that arrived live) records its release hop, is stamped per subscriber as it is queued,
    /// and records its enqueue hop once, at the last subscriber: the fan-out time (a record per delivery would cost the
    /// fan-out path itself).
    /// </summary>
    private void Push(WatchedRun run, List<RunEvent> released)
    {
        var tail = run.Tail;
        foreach (var runEvent in released)
        {
            var trace = runEvent.Trace;
            if (trace is { Count: >= 2 })
            {
                _streamMetrics.TokenHop(trace[^2], trace[^1]);
            }
            long lastEnqueuedAtUs = 0;
            for (var i = tail.Subscribers.Count - 1; i >= 0; i--)
            {
                var enqueuedAtUs = trace is null ? 0 : _streamMetrics.NowUs();
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
                _streamMetrics.TokenHop(TokenPath.GatewayEnqueued, trace[^1].AtUs, lastEnqueuedAtUs);
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

    private void Unsubscribe(WatchedRun run, SubscriberOutbox subscriber)
    {
        lock (run.Gate)
        {
            run.Tail.Subscribers.Remove(subscriber);
            if (run.Tail.Subscribers.Count == 0)
            {
                run.UnwatchedSince = _time.GetUtcNow();
            }
        }
        subscriber.Complete();
    }

    /// <summary>
    /// Once a second: held events past their time go out; runs nobody watched for a while are dropped; quiet runs check
    /// the log for entries that never arrived live (backing off while nothing is found).
    /// </summary>
    private void Sweep()
    {
        var now = _time.GetUtcNow();
        var released = new List<RunEvent>();
        foreach (var run in _runs.Values)
        {
            bool drop;
            lock (run.Gate)
            {
                if (run.Loading || run.Removed)
                {
                    continue;
                }
                if (run.Tail.Subscribers.Count == 0 && run.UnwatchedSince is null)
                {
                    run.UnwatchedSince = now; // every subscriber left by completing (terminal)
                }
                run.Tail.ReleaseOverdue(now, _options.MaxHoldTime, _options.MaxEventsPerRun, released, _logger);
                Push(run, released);
                drop = run.UnwatchedSince is { } since && since + _options.UnwatchedRetention <= now;
                if (!drop && !run.Tail.Terminal && run.Tail.Subscribers.Count > 0 && !run.Reading
                    && now - run.LastEntryAt >= run.QuietCheckInterval && now >= run.NextQuietCheck)
                {
                    run.NextQuietCheck = now + run.QuietCheckInterval;
                    run.QuietCheckInterval = TimeSpan.FromTicks(Math.Min(_options.QuietCheckMaxInterval.Ticks, run.QuietCheckInterval.Ticks * 2));
                    RequestRead(run, "catch-up", TimeSpan.Zero);
                }
            }
            if (drop)
            {
                Remove(run, "no subscribers");
            }
        }
    }

    /// <summary>Over the run limit: finished runs leave first, then runs without subscribers, then the least recently active.</summary>
    private void EvictForCapacity(WatchedRun justAdded)
    {
        lock (_evictionGate)
        {
            while (_runs.Count > _options.MaxRuns)
            {
                WatchedRun? victim = null;
                foreach (var candidate in _runs.Values)
                {
                    if (!ReferenceEquals(candidate, justAdded) && (victim is null || EvictsBefore(candidate, victim)))
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

    private static bool EvictsBefore(WatchedRun a, WatchedRun b)
    {
        // Unlocked reads of a few fields: a slightly stale view only changes which run goes first.
        if (a.Tail.Terminal != b.Tail.Terminal)
        {
            return a.Tail.Terminal;
        }
        var aIdle = a.Tail.Subscribers.Count == 0;
        var bIdle = b.Tail.Subscribers.Count == 0;
        if (aIdle != bIdle)
        {
            return aIdle;
        }
        return a.LastEntryAt < b.LastEntryAt;
    }

    private void Remove(WatchedRun run, string reason)
    {
        lock (run.Gate)
        {
            if (run.Removed)
            {
                return;
            }
            run.Removed = true;
            // Their cursors stay valid: on their next subscription this (or any) gateway reads the run from the log again.
            foreach (var subscriber in run.Tail.Subscribers)
            {
                subscriber.Fail("[slow_consumer] The gateway dropped this run's events (run limit reached); subscribe again with your cursor.");
            }
            run.Tail.Subscribers.Clear();
        }
        if (_runs.TryRemove(new KeyValuePair<string, WatchedRun>(run.Key, run)))
        {
            _metrics.WatchedRuns(-1);
            _ = UnwatchAsync(run);
        }
        RunReleased(_logger, run.TenantId, run.RunId, reason);
    }

    private async Task UnwatchAsync(WatchedRun run)
    {
        try
        {
            await _live.UnwatchAsync(run.TenantId, run.RunId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            UnwatchFailed(_logger, e, run.TenantId, run.RunId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run events: loading run {TenantId}/{RunId} failed")]
    private static partial void LoadFailed(ILogger logger, Exception exception, string tenantId, string runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run events: reading the log of run {TenantId}/{RunId} from {From} failed; retrying")]
    private static partial void ReadFailed(ILogger logger, Exception exception, string tenantId, string runId, long from);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run events: entries {First}..{Last} of run {TenantId}/{RunId} are missing from its log; continuing without them")]
    private static partial void EntriesLost(ILogger logger, string tenantId, string runId, long first, long last);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run events: entry {Seq} of run {TenantId}/{RunId} skipped: {Problem}")]
    private static partial void EntrySkipped(ILogger logger, string tenantId, string runId, long seq, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run events: the log of run {TenantId}/{RunId} was replaced (epoch {Old} -> {New}); its subscribers resume")]
    private static partial void EpochChanged(ILogger logger, string tenantId, string runId, string old, string @new);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Run events: stopped watching run {TenantId}/{RunId} ({Reason})")]
    private static partial void RunReleased(ILogger logger, string tenantId, string runId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run events: unbinding run {TenantId}/{RunId} failed")]
    private static partial void UnwatchFailed(ILogger logger, Exception exception, string tenantId, string runId);
}
