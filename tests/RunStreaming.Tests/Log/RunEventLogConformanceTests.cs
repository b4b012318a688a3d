using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Log;

namespace AgentOrchestrator.RunStreaming.Tests.Log;

/// <summary>
/// What every run-event log must do (in memory and in Redis alike): dense per-run sequence numbers in call order,
/// reads from any position, compaction that keeps every delta readable at its number, epochs, retention.
/// </summary>
public abstract class RunEventLogConformanceTests
{
    private static int s_runs;

    protected abstract IRunEventLog Log { get; }

    /// <summary>Makes the log forget runs that were quiet for its retention (a fake clock, or waiting out a short TTL).</summary>
    protected abstract Task ExpireAsync(string tenantId, string runId);

    protected static LogRun NewRun() => new("t1", "r" + Interlocked.Increment(ref s_runs) + "-" + Guid.NewGuid().ToString("N")[..6]);

    [Fact]
    public async Task Append_StartedOneAfterAnother_NumbersInCallOrderWithoutHoles()
    {
        var run = NewRun();
        var appends = Enumerable.Range(0, 200).Select(i => Log.AppendAsync(run.Message(run.Token("w", 1, i, "t" + i)), null, default).AsTask()).ToList();

        var positions = await Task.WhenAll(appends);

        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), positions.Select(p => p.Seq));
        Assert.Single(positions.Select(p => p.Epoch).Distinct());
        var slice = await Log.ReadAsync(run.Tenant, run.RunId, 1, default);
        Assert.Equal(200, slice.Head);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => "t" + i), slice.Entries.Select(e => e.Message.Events[0].Text));
    }

    [Fact]
    public async Task Append_TwoRuns_EachHasItsOwnSequenceAndEpoch()
    {
        var a = NewRun();
        var b = NewRun();

        var a1 = await Log.AppendAsync(a.Message(a.RunStarted()), null, default);
        var b1 = await Log.AppendAsync(b.Message(b.RunStarted()), null, default);
        var a2 = await Log.AppendAsync(a.Message(a.Started("w", 1)), null, default);

        Assert.Equal((1, 1, 2), (a1.Seq, b1.Seq, a2.Seq));
        Assert.Equal(a1.Epoch, a2.Epoch);
        Assert.NotEqual(a1.Epoch, b1.Epoch);
    }

    [Fact]
    public async Task Read_FromAPosition_ReturnsThatEntryOnwardsToTheHead()
    {
        var run = NewRun();
        for (var i = 0; i < 5; i++)
        {
            await Log.AppendAsync(run.Message(run.Token("w", 1, i, "x" + i)), null, default);
        }

        var slice = await Log.ReadAsync(run.Tenant, run.RunId, 3, default);
        var past = await Log.ReadAsync(run.Tenant, run.RunId, 6, default);

        Assert.Equal([3L, 4L, 5L], slice.Entries.Select(e => e.Seq));
        Assert.Equal(["x2", "x3", "x4"], slice.Entries.Select(e => e.Message.Events[0].Text));
        Assert.Equal(5, past.Head);
        Assert.Empty(past.Entries);
        Assert.NotNull(past.Epoch);
    }

    [Fact]
    public async Task Read_RunWithoutALog_ReturnsNoEpochAndNothing()
    {
        var slice = await Log.ReadAsync("t1", "never-" + Guid.NewGuid().ToString("N"), 1, default);

        Assert.Null(slice.Epoch);
        Assert.Empty(slice.Entries);
    }

    [Fact]
    public async Task Compaction_WithStepCompleted_KeepsEveryDeltaReadableAtItsNumber()
    {
        var run = NewRun();
        var deltas = new[] { "Hel", "lo ", "wor", "ld" };
        var before = await ReadAllAsync(run, async () =>
        {
            await Log.AppendAsync(run.Message(run.Started("w", 1)), null, default);
            var tokens = new List<CompactedToken>();
            var offset = 0;
            string epoch = "";
            for (var i = 0; i < deltas.Length; i++)
            {
                var position = await Log.AppendAsync(run.Message(run.Token("w", 1, i, deltas[i], offset)), null, default);
                // Another step's entry between the deltas: compaction must leave it alone.
                await Log.AppendAsync(run.Message(run.Token("r", 1, i, "r" + i, i * 2)), null, default);
                tokens.Add(new CompactedToken(position.Seq, i, offset));
                offset += deltas[i].Length;
                epoch = position.Epoch;
            }
            var completed = run.Message(run.Completed("w", 1, deltas.Length, "Hello world"));
            await Log.AppendAsync(completed, new StepCompaction(epoch, "w", 1, "w", "Hello world", tokens, DateTimeOffset.UnixEpoch), default);
        });

        Assert.Equal(10, before.Entries.Count);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), before.Entries.Select(e => e.Seq));
        var writer = before.Entries.Select(e => e.Message.Events[0]).Where(e => e.Step == "w" && e.Type == RunEventTypes.Token).ToList();
        Assert.Equal(deltas, writer.Select(e => e.Text));
        Assert.Equal([0L, 3L, 6L, 9L], writer.Select(e => e.Offset ?? -1));
        Assert.Equal(Enumerable.Range(0, 4).Select(i => RunEventIds.ForStep(run.RunId, "w", 1, RunEventTypes.Token, i)), writer.Select(e => e.Id));
        Assert.Equal(["r0", "r1", "r2", "r3"], before.Entries.Select(e => e.Message.Events[0]).Where(e => e.Step == "r").Select(e => e.Text));
        // A read that starts inside the compacted range gets the rest of it.
        var tail = await Log.ReadAsync(run.Tenant, run.RunId, 6, default);
        Assert.Equal(["wor", "r2", "ld", "r3", "Hello world"], tail.Entries.Select(e => e.Message.Events[0].Text));
    }

    [Fact]
    public async Task Compaction_OfAnotherEpoch_IsIgnored()
    {
        var run = NewRun();
        await Log.AppendAsync(run.Message(run.Started("w", 1)), null, default);
        var token = await Log.AppendAsync(run.Message(run.Token("w", 1, 0, "only", 0)), null, default);

        await Log.AppendAsync(run.Message(run.Completed("w", 1, 1, "only")),
            new StepCompaction("not-this-log", "w", 1, "w", "only", [new CompactedToken(token.Seq, 0, 0)], DateTimeOffset.UnixEpoch), default);

        var slice = await Log.ReadAsync(run.Tenant, run.RunId, 1, default);
        Assert.Equal(3, slice.Entries.Count);
        Assert.Equal("only", slice.Entries[1].Message.Events[0].Text);
    }

    [Fact]
    public async Task Retention_AQuietRunsLogExpires_AndALaterAppendStartsANewEpochAtOne()
    {
        var run = NewRun();
        var first = await Log.AppendAsync(run.Message(run.RunStarted()), null, default);

        await ExpireAsync(run.Tenant, run.RunId);
        var gone = await Log.ReadAsync(run.Tenant, run.RunId, 1, default);
        var again = await Log.AppendAsync(run.Message(run.Started("w", 1)), null, default);

        Assert.Null(gone.Epoch);
        Assert.Equal(1, again.Seq);
        Assert.NotEqual(first.Epoch, again.Epoch);
    }

    private async Task<RunLogSlice> ReadAllAsync(LogRun run, Func<Task> write)
    {
        await write();
        return await Log.ReadAsync(run.Tenant, run.RunId, 1, default);
    }
}
