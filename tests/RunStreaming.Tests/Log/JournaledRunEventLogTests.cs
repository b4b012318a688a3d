using AgentOrchestrator.RunStreaming.Log;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentOrchestrator.RunStreaming.Tests.Log;

/// <summary>
/// The in-memory log with a journal file (the durable embedded host's): the conformance suite, and a new log on the
/// same file (a restarted process) continues every run where it stood.
/// </summary>
public sealed class JournaledRunEventLogTests : RunEventLogConformanceTests, IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "run-log-journal-" + Guid.NewGuid().ToString("N"));
    private readonly RunEventLogOptions _options;
    private readonly InMemoryRunEventLog _log;

    public JournaledRunEventLogTests()
    {
        _options = new() { Retention = TimeSpan.FromHours(1), JournalPath = Path.Combine(_directory, "run-events.journal") };
        _log = new InMemoryRunEventLog(Options.Create(_options), _time);
    }

    protected override IRunEventLog Log => _log;

    protected override Task ExpireAsync(string tenantId, string runId)
    {
        _time.Advance(_options.Retention + TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _log.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private InMemoryRunEventLog Reopen()
    {
        _log.Dispose();
        return new InMemoryRunEventLog(Options.Create(_options), _time);
    }

    [Fact]
    public async Task Restart_OnTheSameJournal_KeepsEpochEntriesAndCompactionAndContinuesTheNumbers()
    {
        var run = NewRun();
        var started = await _log.AppendAsync(run.Message(run.RunStarted()), null, default);
        var t0 = await _log.AppendAsync(run.Message(run.Token("w", 1, 0, "hel", 0)), null, default);
        var t1 = await _log.AppendAsync(run.Message(run.Token("w", 1, 1, "lo", 3)), null, default);
        var compaction = new StepCompaction(started.Epoch, "w", 1, "w", "hello", [new(t0.Seq, 0, 0), new(t1.Seq, 1, 3)], DateTimeOffset.UnixEpoch);
        await _log.AppendAsync(run.Message(run.Completed("w", 1, 2, "hello")), compaction, default);
        var partial = await _log.AppendAsync(run.Message(run.Token("r", 1, 0, "part", 0)), null, default);
        var before = await _log.ReadAsync(run.Tenant, run.RunId, 1, default);

        using var restarted = Reopen();
        var after = await restarted.ReadAsync(run.Tenant, run.RunId, 1, default);
        var next = await restarted.AppendAsync(run.Message(run.Token("r", 2, 0, "whole", 0)), null, default);

        Assert.Equal(before.Epoch, after.Epoch);
        Assert.Equal(before.Head, after.Head);
        Assert.Equal(before.Entries.Select(e => (e.Seq, e.Message.Events[0].Id, e.Message.Events[0].Text)),
            after.Entries.Select(e => (e.Seq, e.Message.Events[0].Id, e.Message.Events[0].Text)));
        Assert.Equal(new RunLogPosition(started.Epoch, partial.Seq + 1), next);

        // Again, from the journal rewritten at the first restart plus the append after it.
        restarted.Dispose();
        using var again = new InMemoryRunEventLog(Options.Create(_options), _time);
        var third = await again.ReadAsync(run.Tenant, run.RunId, 1, default);
        Assert.Equal(after.Entries.Count + 1, third.Entries.Count);
        Assert.Equal("whole", third.Entries[^1].Message.Events[0].Text);
    }

    [Fact]
    public async Task Restart_AfterTheRetention_DropsTheRunAndATornLastLineIsSkipped()
    {
        var kept = NewRun();
        var expired = NewRun();
        await _log.AppendAsync(expired.Message(expired.RunStarted()), null, default);
        _time.Advance(TimeSpan.FromMinutes(50));
        await _log.AppendAsync(kept.Message(kept.RunStarted()), null, default);
        _log.Dispose();
        await File.AppendAllTextAsync(_options.JournalPath!, "{\"key\":\"torn"); // the process died mid-write
        _time.Advance(TimeSpan.FromMinutes(20));

        using var restarted = new InMemoryRunEventLog(Options.Create(_options), _time);

        Assert.Null((await restarted.ReadAsync(expired.Tenant, expired.RunId, 1, default)).Epoch);
        Assert.Single((await restarted.ReadAsync(kept.Tenant, kept.RunId, 1, default)).Entries);
    }

    [Fact]
    public async Task Restart_WithADamagedLineBeforeTheLast_IsAClearStartUpError()
    {
        var run = NewRun();
        await _log.AppendAsync(run.Message(run.RunStarted()), null, default);
        _log.Dispose();
        var lines = await File.ReadAllLinesAsync(_options.JournalPath!);
        await File.WriteAllLinesAsync(_options.JournalPath!, ["not json", .. lines]);

        var error = Assert.Throws<InvalidDataException>(() => new InMemoryRunEventLog(Options.Create(_options), _time));
        Assert.Contains("damaged at line 1", error.Message, StringComparison.Ordinal);
    }
}
