using System.Collections.Concurrent;
using AgentOrchestrator.Contracts;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>
/// The run-event log in this process (RunEvents:Log:Store = InMemory): the embedded host's, where every writer and
/// reader shares the process. Same contract as the Redis log; a restart starts every log again under a new epoch.
/// </summary>
internal sealed class InMemoryRunEventLog(IOptions<RunEventLogOptions> options, TimeProvider time) : IRunEventLog
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, RunLog> _runs = new(StringComparer.Ordinal);
    private long _nextSweepTicks;

    /// <summary>Runs with a log (for tests and diagnostics).</summary>
    public int RunCount => _runs.Count;

    public ValueTask<RunLogPosition> AppendAsync(RunEventsPublished message, StepCompaction? compaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        cancellationToken.ThrowIfCancellationRequested();
        var now = time.GetUtcNow();
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
                var seq = ++log.Head;
                log.Entries[seq] = message;
                if (compaction is not null && options.Value.CompactFinishedAttempts && compaction.Epoch == log.Epoch && CompactedSteps.IsValid(message, compaction))
                {
                    foreach (var token in compaction.Tokens)
                    {
                        log.Entries.Remove(token.Seq);
                    }
                    log.Compactions.Add(compaction);
                }
                log.ExpiresAt = now + options.Value.Retention;
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
            if (log.Removed || log.ExpiresAt <= time.GetUtcNow())
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
