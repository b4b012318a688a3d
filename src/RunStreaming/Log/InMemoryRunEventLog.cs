using System.Collections.Concurrent;
using AgentOrchestrator.Contracts;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>
/// The run-event log in this process (RunEvents:Log:Store = InMemory): the embedded host's, where every writer and
/// reader shares the process. Same contract as the Redis log. Without a journal a restart starts every log again under
/// a new epoch; with one (RunEvents:Log:JournalPath, which the durable embedded host sets) every append is written to
/// it before it is answered, and a restarted process continues each run's log where it stood.
/// </summary>
internal sealed class InMemoryRunEventLog : IRunEventLog, IDisposable
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, RunLog> _runs = new(StringComparer.Ordinal);
    private readonly IOptions<RunEventLogOptions> _options;
    private readonly TimeProvider _time;
    private readonly RunEventLogJournal? _journal;
    private long _nextSweepTicks;

    public InMemoryRunEventLog(IOptions<RunEventLogOptions> options, TimeProvider time)
    {
        _options = options;
        _time = time;
        if (_options.Value.JournalPath is { Length: > 0 } path)
        {
            _journal = RunEventLogJournal.Open(path, out var lines);
            Restore(lines);
            _journal.Rewrite(Snapshot());
        }
    }

    /// <summary>Runs with a log (for tests and diagnostics).</summary>
    public int RunCount => _runs.Count;

    public void Dispose() => _journal?.Dispose();

    public ValueTask<RunLogPosition> AppendAsync(RunEventsPublished message, StepCompaction? compaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        var key = RunWorkflowIds.For(message.TenantId, message.RunId);
        while (true)
        {
            var log = _runs.GetOrAdd(key, _ => new RunLog(Guid.NewGuid().ToString("N")));
            lock (log.Gate)
            {
                if (log.Removed)
                {
                    continue;
                }
                if (log.ExpiresAt is { } expires && expires <= now)
                {
                    Remove(key, log);
                    continue;
                }
                var seq = log.Head + 1;
                var applied = compaction is not null && _options.Value.CompactFinishedAttempts && compaction.Epoch == log.Epoch
                    && CompactedSteps.IsValid(message, compaction) ? compaction : null;
                var expiresAt = now + _options.Value.Retention;
                // Written ahead: nothing is answered (or readable) that a restart would not find again.
                _journal?.Append(new JournalLine(key, log.Epoch, seq, message, applied, expiresAt));
                Apply(log, seq, message, applied, expiresAt);
                SweepIfDue(now);
                return ValueTask.FromResult(new RunLogPosition(log.Epoch, seq));
            }
        }
    }

    public ValueTask<RunLogSlice> ReadAsync(string tenantId, string runId, long fromSeq, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var key = RunWorkflowIds.For(tenantId, runId);
        if (!_runs.TryGetValue(key, out var log))
        {
            return ValueTask.FromResult(RunLogSlice.None);
        }
        lock (log.Gate)
        {
            if (log.Removed || log.ExpiresAt <= _time.GetUtcNow())
            {
                return ValueTask.FromResult(RunLogSlice.None);
            }
            var from = Math.Max(1, fromSeq);
            var entries = new List<RunLogEntry>((int)Math.Max(0, log.Head - from + 1));
            Dictionary<long, (StepCompaction Compaction, int Position)>? compacted = null;
            for (var seq = from; seq <= log.Head; seq++)
            {
                if (log.Entries.TryGetValue(seq, out var message))
                {
                    entries.Add(new RunLogEntry(seq, message));
                    continue;
                }
                compacted ??= CompactedFrom(log, from);
                if (compacted.TryGetValue(seq, out var token))
                {
                    entries.Add(new RunLogEntry(seq, CompactedSteps.Token(tenantId, runId, token.Compaction, token.Position)));
                }
            }
            return ValueTask.FromResult(new RunLogSlice(log.Epoch, log.Head, entries));
        }
    }

    private static Dictionary<long, (StepCompaction, int)> CompactedFrom(RunLog log, long from)
    {
        var bySeq = new Dictionary<long, (StepCompaction, int)>();
        foreach (var compaction in log.Compactions)
        {
            for (var i = 0; i < compaction.Tokens.Count; i++)
            {
                if (compaction.Tokens[i].Seq >= from)
                {
                    bySeq[compaction.Tokens[i].Seq] = (compaction, i);
                }
            }
        }
        return bySeq;
    }

    private static void Apply(RunLog log, long seq, RunEventsPublished? message, StepCompaction? compaction, DateTimeOffset expiresAt)
    {
        log.Head = Math.Max(log.Head, seq);
        if (message is not null)
        {
            log.Entries[seq] = message;
        }
        if (compaction is not null)
        {
            foreach (var token in compaction.Tokens)
            {
                log.Entries.Remove(token.Seq);
            }
            log.Compactions.Add(compaction);
        }
        log.ExpiresAt = expiresAt;
    }

    /// <summary>The journal's lines in the order written: a line of another epoch means the run's earlier log had expired.</summary>
    private void Restore(List<JournalLine> lines)
    {
        foreach (var line in lines)
        {
            if (!_runs.TryGetValue(line.Key, out var log) || log.Epoch != line.Epoch)
            {
                log = new RunLog(line.Epoch);
                _runs[line.Key] = log;
            }
            Apply(log, line.Seq, line.Message, line.Compaction, line.ExpiresAt);
        }
        var now = _time.GetUtcNow();
        foreach (var (key, log) in _runs)
        {
            if (log.ExpiresAt <= now)
            {
                Remove(key, log);
            }
        }
    }

    /// <summary>What the logs hold now as journal lines: entries, compactions, then the head.</summary>
    private IEnumerable<JournalLine> Snapshot()
    {
        foreach (var (key, log) in _runs)
        {
            var expiresAt = log.ExpiresAt ?? _time.GetUtcNow();
            foreach (var (seq, message) in log.Entries.OrderBy(e => e.Key))
            {
                yield return new JournalLine(key, log.Epoch, seq, message, null, expiresAt);
            }
            foreach (var compaction in log.Compactions)
            {
                yield return new JournalLine(key, log.Epoch, CompactedSteps.SeqRange(compaction).Last, null, compaction, expiresAt);
            }
            yield return new JournalLine(key, log.Epoch, log.Head, null, null, expiresAt);
        }
    }

    private void SweepIfDue(DateTimeOffset now)
    {
        var next = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextSweepTicks, (now + SweepInterval).UtcTicks, next) != next)
        {
            return;
        }
        foreach (var (key, log) in _runs)
        {
            // Another run's lock is taken only to read its expiry; the caller holds its own run's lock, and the sweep
            // skips it (TryEnter) rather than wait.
            if (log.Gate.TryEnter())
            {
                try
                {
                    if (log.ExpiresAt <= now)
                    {
                        Remove(key, log);
                    }
                }
                finally
                {
                    log.Gate.Exit();
                }
            }
        }
    }

    private void Remove(string key, RunLog log)
    {
        log.Removed = true;
        _runs.TryRemove(new KeyValuePair<string, RunLog>(key, log));
    }

    private sealed class RunLog(string epoch)
    {
        public Lock Gate { get; } = new();

        public string Epoch { get; } = epoch;

        public long Head { get; set; }

        public Dictionary<long, RunEventsPublished> Entries { get; } = [];

        public List<StepCompaction> Compactions { get; } = [];

        public DateTimeOffset? ExpiresAt { get; set; }

        public bool Removed { get; set; }
    }
}
