using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace AgentOrchestrator.RunStreaming.Tests.Ordering;

/// <summary>
/// A gateway's feed: only the runs its subscribers watch, each read from the run's log and then kept current live;
/// runs nobody watches are dropped; tails bounded per run and by run count.
/// </summary>
public sealed class RunEventFeedTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task Subscribe_DuplicateIds_AreDropped()
    {
        await using var path = await FeedHarness.StartAsync(_time);
        await path.AppendAsync(Message("t1", "r1", Token("t1", "r1", 0), Token("t1", "r1", 1)));
        await path.AppendAsync(Message("t1", "r1", Token("t1", "r1", 1), Token("t1", "r1", 2)));

        using var subscription = await path.SubscribeAsync("t1", "r1", null);

        Assert.Equal(["r1/writer/1/token/0", "r1/writer/1/token/1", "r1/writer/1/token/2"], subscription.Replay.Select(e => e.Id));
    }

    [Fact]
    public async Task Subscribe_SameRunIdOtherTenant_SeesNothing()
    {
        await using var path = await FeedHarness.StartAsync(_time);
        await path.AppendAsync(Message("t1", "r1", Token("t1", "r1", 0)));

        using var subscription = await path.SubscribeAsync("t2", "r1", null);

        Assert.Empty(subscription.Replay);
        Assert.False(subscription.FromRunStart);
    }

    [Fact]
    public async Task Append_RunsNobodyWatches_CostTheFeedNothing()
    {
        await using var path = await FeedHarness.StartAsync(_time);
        for (var i = 0; i < 20; i++)
        {
            await path.AppendAsync(Message("t1", "r" + i, Token("t1", "r" + i, 0)));
        }
        using var watched = await path.SubscribeAsync("t1", "r7", null);
        await path.AppendAsync(Message("t1", "r7", Token("t1", "r7", 1)));

        Assert.Equal(1, path.Feed.RunCount);
        Assert.Equal(20, path.Log.RunCount);
        Assert.Equal("r7/writer/1/token/0", Assert.Single(watched.Replay).Id);
        Assert.Equal("r7/writer/1/token/1", (await ReadAsync(watched)).Id);
    }

    [Fact]
    public async Task Append_TerminalEvent_CompletesLiveSubscribersAndLaterSubscribersGetOnlyReplay()
    {
        await using var path = await FeedHarness.StartAsync(_time);
        using var live = await path.SubscribeAsync("t1", "r1", null);
        await path.AppendAsync(Message("t1", "r1", Token("t1", "r1", 0), Completed("t1", "r1")));

        var received = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await live.Live.ReadAsync(timeout.Token) is { } runEvent)
        {
            received.Add(runEvent.Id);
        }
        using var late = await path.SubscribeAsync("t1", "r1", "r1/writer/1/token/0");

        Assert.Equal(["r1/writer/1/token/0", "r1/run.completed"], received);
        Assert.Equal(["r1/run.completed"], late.Replay.Select(e => e.Id));
        Assert.Null(await late.Live.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Subscribe_BeyondPerRunLimit_DropsOldestAndUnknownCursorReplaysAllRetained()
    {
        await using var path = await FeedHarness.StartAsync(_time, new RunEventTailOptions { MaxEventsPerRun = 3 });
        for (var i = 0; i < 5; i++)
        {
            await path.AppendAsync(Message("t1", "r1", Token("t1", "r1", i)));
        }

        using var all = await path.SubscribeAsync("t1", "r1", "r1/writer/1/token/0");

        Assert.False(all.CursorKnown);
        Assert.False(all.FromRunStart);
        Assert.Equal(["r1/writer/1/token/2", "r1/writer/1/token/3", "r1/writer/1/token/4"], all.Replay.Select(e => e.Id));
    }

    [Fact]
    public async Task Subscribe_BeyondRunLimit_EvictsFinishedRunsFirst()
    {
        await using var path = await FeedHarness.StartAsync(_time, new RunEventTailOptions { MaxRuns = 2 });
        await path.AppendAsync(Message("t1", "active", Token("t1", "active", 0)));
        await path.AppendAsync(Message("t1", "done", Token("t1", "done", 0), Completed("t1", "done")));
        await path.AppendAsync(Message("t1", "new", Token("t1", "new", 0)));
        using var active = await path.SubscribeAsync("t1", "active", null);
        _time.Advance(TimeSpan.FromSeconds(1));
        (await path.SubscribeAsync("t1", "done", null)).Dispose();
        _time.Advance(TimeSpan.FromSeconds(1));

        using var later = await path.SubscribeAsync("t1", "new", null);

        Assert.Equal(2, path.Feed.RunCount);
        Assert.Single(later.Replay);
        Assert.False(active.Live.Failed);
    }

    [Fact]
    public async Task Sweep_RunWithoutSubscribersPastItsRetention_IsDroppedAndReadAgainFromTheLogLater()
    {
        await using var path = await FeedHarness.StartAsync(_time, new RunEventTailOptions { UnwatchedRetention = TimeSpan.FromSeconds(30) });
        await path.AppendAsync(Message("t1", "r1", Token("t1", "r1", 0)));
        (await path.SubscribeAsync("t1", "r1", null)).Dispose();
        Assert.Equal(1, path.Feed.RunCount);

        _time.Advance(TimeSpan.FromSeconds(31));
        await Eventually.TrueAsync(() => path.Feed.RunCount == 0);
        await path.AppendAsync(Message("t1", "r1", Token("t1", "r1", 1)));
        using var again = await path.SubscribeAsync("t1", "r1", "r1/writer/1/token/0");

        Assert.True(again.CursorKnown);
        Assert.Equal(["r1/writer/1/token/1"], again.Replay.Select(e => e.Id));
    }

    [Fact]
    public async Task Append_EntryOfAnotherRunInTheMessage_IsSkippedNotFiledUnderThisRun()
    {
        // A real clock: the skipped entry never arrives live, so the next one waits out the gap grace, then reads the log.
        await using var path = await FeedHarness.StartAsync(TimeProvider.System);
        using var subscription = await path.SubscribeAsync("t1", "r1", null);
        // Appended straight to the log (the publisher refuses such a message): a reader must not trust the log either.
        await path.Log.AppendAsync(Message("t1", "r1", Token("t2", "r1", 0)), null, default);
        await path.AppendAsync(Message("t1", "r1", Token("t1", "r1", 0)));

        Assert.Equal("t1", (await ReadAsync(subscription)).TenantId);
    }

    private static async Task<RunEvent> ReadAsync(RunEventSubscription subscription)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await subscription.Live.ReadAsync(timeout.Token) ?? throw new InvalidOperationException("the subscription ended");
    }

    private static RunEventsPublished Message(string tenant, string runId, params RunEvent[] events) =>
        new() { RunId = runId, TenantId = tenant, Events = events };

    private static RunEvent Token(string tenant, string runId, int index) => new()
    {
        Id = RunEventIds.ForStep(runId, "writer", 1, RunEventTypes.Token, index),
        RunId = runId,
        TenantId = tenant,
        Type = RunEventTypes.Token,
        Step = "writer",
        Attempt = 1,
        Index = index,
        Text = "x",
        Ts = DateTimeOffset.UnixEpoch,
    };

    private static RunEvent Completed(string tenant, string runId) => new()
    {
        Id = RunEventIds.ForRun(runId, RunEventTypes.RunCompleted),
        RunId = runId,
        TenantId = tenant,
        Type = RunEventTypes.RunCompleted,
        Ts = DateTimeOffset.UnixEpoch,
    };
}
