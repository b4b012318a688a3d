using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Ordering;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentOrchestrator.RunStreaming.Tests.Ordering;

public sealed class InMemoryRunEventFeedTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));

    [Fact]
    public void Append_DuplicateIds_AreDropped()
    {
        var feed = NewFeed();
        feed.Append(Message("t1", "r1", Token("r1", 0), Token("r1", 1)));
        feed.Append(Message("t1", "r1", Token("r1", 1), Token("r1", 2)));

        using var subscription = feed.Subscribe("t1", "r1", null);

        Assert.Equal(["r1/writer/1/token/0", "r1/writer/1/token/1", "r1/writer/1/token/2"], subscription.Replay.Select(e => e.Id));
    }

    [Fact]
    public void Subscribe_SameRunIdOtherTenant_SeesNothing()
    {
        var feed = NewFeed();
        feed.Append(Message("t1", "r1", Token("r1", 0)));

        using var subscription = feed.Subscribe("t2", "r1", null);

        Assert.Empty(subscription.Replay);
    }

    [Fact]
    public async Task Append_TerminalEvent_CompletesLiveSubscribersAndLaterSubscribersGetOnlyReplay()
    {
        var feed = NewFeed();
        using var live = feed.Subscribe("t1", "r1", null);
        feed.Append(Message("t1", "r1", Token("r1", 0), Completed("r1")));

        var received = new List<string>();
        while (await live.Live.ReadAsync(CancellationToken.None) is { } runEvent)
        {
            received.Add(runEvent.Id);
        }
        using var late = feed.Subscribe("t1", "r1", "r1/writer/1/token/0");

        Assert.Equal(["r1/writer/1/token/0", "r1/run.completed"], received);
        Assert.Equal(["r1/run.completed"], late.Replay.Select(e => e.Id));
        Assert.Null(await late.Live.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public void Append_BeyondPerRunLimit_DropsOldestAndUnknownCursorReplaysAllRetained()
    {
        var feed = NewFeed(new RunEventTailOptions { MaxEventsPerRun = 3 });
        for (var i = 0; i < 5; i++)
        {
            feed.Append(Message("t1", "r1", Token("r1", i)));
        }

        using var all = feed.Subscribe("t1", "r1", "r1/writer/1/token/0");

        Assert.False(all.CursorKnown);
        Assert.False(all.FromRunStart);
        Assert.Equal(["r1/writer/1/token/2", "r1/writer/1/token/3", "r1/writer/1/token/4"], all.Replay.Select(e => e.Id));
    }

    [Fact]
    public void Append_BeyondRunLimit_EvictsFinishedRunsFirst()
    {
        var feed = NewFeed(new RunEventTailOptions { MaxRuns = 2 });
        feed.Append(Message("t1", "active", Token("active", 0)));
        _time.Advance(TimeSpan.FromSeconds(1));
        feed.Append(Message("t1", "done", Token("done", 0), Completed("done")));
        _time.Advance(TimeSpan.FromSeconds(1));
        feed.Append(Message("t1", "new", Token("new", 0)));

        Assert.Equal(2, feed.RunCount);
        using var active = feed.Subscribe("t1", "active", null);
        Assert.Single(active.Replay);
    }

    [Fact]
    public void Append_FinishedRunPastRetention_IsSwept()
    {
        var feed = NewFeed(new RunEventTailOptions { CompletedRunRetention = TimeSpan.FromMinutes(1) });
        feed.Append(Message("t1", "done", Completed("done")));
        _time.Advance(TimeSpan.FromMinutes(2));

        feed.Append(Message("t1", "other", Token("other", 0)));

        Assert.Equal(1, feed.RunCount);
    }

    [Fact]
    public void Options_Default_KeepFinishedRunsForAnHour() =>
        Assert.Equal(TimeSpan.FromHours(1), new RunEventTailOptions().CompletedRunRetention);

    private InMemoryRunEventFeed NewFeed(RunEventTailOptions? options = null) =>
        new(Options.Create(options ?? new RunEventTailOptions()), Options.Create(new DeliveryOptions()), _time, NullLogger<InMemoryRunEventFeed>.Instance);

    private static RunEventsPublished Message(string tenant, string runId, params RunEvent[] events) =>
        new() { RunId = runId, TenantId = tenant, Events = events };

    private static RunEvent Token(string runId, int index) => new()
    {
        Id = RunEventIds.ForStep(runId, "writer", 1, RunEventTypes.Token, index),
        RunId = runId,
        TenantId = "ignored",
        Type = RunEventTypes.Token,
        Step = "writer",
        Attempt = 1,
        Index = index,
        Text = "x",
        Ts = DateTimeOffset.UnixEpoch,
    };

    private static RunEvent Completed(string runId) => new()
    {
        Id = RunEventIds.ForRun(runId, RunEventTypes.RunCompleted),
        RunId = runId,
        TenantId = "ignored",
        Type = RunEventTypes.RunCompleted,
        Ts = DateTimeOffset.UnixEpoch,
    };
}
