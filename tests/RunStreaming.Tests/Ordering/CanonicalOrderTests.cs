using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentOrchestrator.RunStreaming.Tests.Ordering;

/// <summary>The feed's canonical per-run order: dedup, per step attempt reordering, attempt supersede, determinism.</summary>
public sealed class CanonicalOrderTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
    private readonly RunScript _run = new("t1", "r1");

    /// <summary>
    /// Attempt 1 streams two tokens, then fails; attempt 2 streams "Hello world!" in four tokens. The bus delivers
    /// duplicates, tokens out of order, a late attempt-1 token after attempt 2 started, step.completed before its
    /// last token and run.completed before step.completed.
    /// </summary>
    private List<RunEventsPublished> MessyDelivery()
    {
        var r = _run;
        return
        [
            r.Message(r.RunStarted()),
            r.Message(r.Started("writer", 1), r.Token("writer", 1, 0, "Bad ")),
            r.Message(r.Token("writer", 1, 1, "draft")),
            r.Message(r.Retrying("writer", 2), r.Started("writer", 2)),
            r.Message(r.Token("writer", 1, 2, " late")),
            r.Message(r.Token("writer", 2, 1, "lo ")),
            r.Message(r.Token("writer", 2, 0, "Hel"), r.Token("writer", 2, 0, "Hel")),
            r.Message(r.Completed("writer", 2, 4, "Hello world!")),
            r.Message(r.RunCompleted("Hello world!")),
            r.Message(r.Token("writer", 2, 3, "!")),
            r.Message(r.Token("writer", 2, 1, "lo ")),
            r.Message(r.Token("writer", 2, 2, "world")),
            r.Message(r.RunCompleted("Hello world!")),
        ];
    }

    [Fact]
    public async Task Append_DuplicatedReorderedAndSupersededEvents_LiveSubscriberRendersExactTranscript()
    {
        await using var path = await FeedHarness.StartAsync(_time);
        using var live = await path.SubscribeAsync("t1", "r1", null);
        foreach (var message in MessyDelivery())
        {
            await path.AppendAsync(message);
        }

        var received = await DrainAsync(live.Live);
        var transcript = new ClientTranscript();
        received.ForEach(transcript.Apply);

        Assert.Equal("writer=Hello world!", transcript.Render());
        Assert.Equal(received.Count, received.Select(e => e.Id).Distinct().Count());
        var attempt2 = received.Where(e => e.Attempt == 2).Select(e => e.Type + "/" + e.Index);
        Assert.Equal(["step.retrying/0", "step.started/0", "token/0", "token/1", "token/2", "token/3", "step.completed/4"], attempt2);
        Assert.Equal(RunEventTypes.RunCompleted, received[^1].Type);
    }

    [Fact]
    public async Task Append_SupersededAttempt_IsRemovedFromTheRetainedTranscript()
    {
        await using var path = await FeedHarness.StartAsync(_time);
        foreach (var message in MessyDelivery())
        {
            await path.AppendAsync(message);
        }

        using var late = await path.SubscribeAsync("t1", "r1", null);

        Assert.True(late.FromRunStart);
        Assert.DoesNotContain(late.Replay, e => e.Attempt == 1);
        Assert.Equal("Hello world!", string.Concat(late.Replay.Where(e => e.Type == RunEventTypes.Token).Select(e => e.Text)));
    }

    [Fact]
    public async Task Subscribe_TwoGatewaysOneLive_OneLoadingLater_HoldTheSameTail()
    {
        await using var path = await FeedHarness.StartAsync(_time);
        var second = path.AddGateway();
        using var live = await path.SubscribeAsync("t1", "r1", null);
        foreach (var message in MessyDelivery())
        {
            await path.AppendAsync(message);
        }
        await DrainAsync(live.Live);

        using var onFirst = await path.SubscribeAsync("t1", "r1", null);
        using var loaded = await second.SubscribeAsync("t1", "r1", null, null, default);

        Assert.Equal(onFirst.Replay.Select(e => e.Id), loaded.Replay.Select(e => e.Id));
        Assert.Equal(onFirst.Replay.Select(e => e.Text), loaded.Replay.Select(e => e.Text));
    }

    [Fact]
    public async Task Subscribe_CursorFromAnotherGateway_ResumesExactlyAfterIt()
    {
        await using var path = await FeedHarness.StartAsync(_time);
        var second = path.AddGateway();
        using var onFirst = await path.SubscribeAsync("t1", "r1", null);
        foreach (var message in MessyDelivery())
        {
            await path.AppendAsync(message);
        }
        var seen = await DrainAsync(onFirst.Live);

        for (var cut = 1; cut < seen.Count; cut++)
        {
            var client = new ClientTranscript();
            seen.Take(cut).ToList().ForEach(client.Apply);
            using var resumed = await second.SubscribeAsync("t1", "r1", client.Cursor, null, default);
            Assert.True(resumed.CursorKnown);
            resumed.Replay.ToList().ForEach(client.Apply);
            Assert.Equal("writer=Hello world!", client.Render());
        }
    }

    [Fact]
    public async Task Subscribe_CursorInsideSupersededAttempt_IsStillKnownAndResumesWithTheNewAttempt()
    {
        await using var path = await FeedHarness.StartAsync(_time);
        foreach (var message in MessyDelivery())
        {
            await path.AppendAsync(message);
        }

        using var resumed = await path.SubscribeAsync("t1", "r1", RunEventIds.ForStep("r1", "writer", 1, RunEventTypes.Token, 0));

        Assert.True(resumed.CursorKnown);
        Assert.Equal(RunEventTypes.StepRetrying, resumed.Replay[0].Type);
        Assert.Equal(RunEventTypes.RunCompleted, resumed.Replay[^1].Type);
    }

    [Fact]
    public async Task Append_StepCompletedBeforeItsTokens_WaitsForThem()
    {
        await using var path = await FeedHarness.StartAsync(_time);
        using var live = await path.SubscribeAsync("t1", "r1", null);
        await path.AppendAsync(_run.Message(_run.Started("writer", 1), _run.Completed("writer", 1, 2, "ab"), _run.Token("writer", 1, 1, "b")));
        await path.AppendAsync(_run.Message(_run.Token("writer", 1, 0, "a"), _run.RunCompleted()));

        var received = await DrainAsync(live.Live);

        Assert.Equal(["step.started/0", "token/0", "token/1", "step.completed/2", "run.completed/1"], received.Select(e => e.Type + "/" + e.Index));
    }

    [Fact]
    public async Task Append_MissingTokenPastHoldTime_ReleasesHeldEventsInOrder()
    {
        await using var path = await FeedHarness.StartAsync(_time, new RunEventTailOptions { MaxHoldTime = TimeSpan.FromSeconds(10) });
        using var live = await path.SubscribeAsync("t1", "r1", null);
        await path.AppendAsync(_run.Message(_run.Started("writer", 1), _run.Token("writer", 1, 2, "c"), _run.Token("writer", 1, 1, "b"), _run.RunCompleted()));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal(RunEventTypes.StepStarted, (await live.Live.ReadAsync(timeout.Token))!.Type);
        Assert.False(live.Live.TryRead(out _));

        _time.Advance(TimeSpan.FromSeconds(11));

        var received = await DrainAsync(live.Live);
        Assert.Equal(["token/1", "token/2", "run.completed/1"], received.Select(e => e.Type + "/" + e.Index));
    }

    [Fact]
    public async Task Append_TooManyHeldInOneAttempt_ReleasesThemInOrder()
    {
        await using var path = await FeedHarness.StartAsync(_time, new RunEventTailOptions { MaxHeldPerStepAttempt = 3 });
        await path.AppendAsync(_run.Message(_run.Started("writer", 1)));
        for (var i = 5; i >= 1; i--)
        {
            await path.AppendAsync(_run.Message(_run.Token("writer", 1, i, i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        using var snapshot = await path.SubscribeAsync("t1", "r1", null);

        // Token 1 came after its successors were released without it: dropped rather than delivered out of order.
        Assert.Equal(["step.started/0", "token/2", "token/3", "token/4", "token/5"], snapshot.Replay.Select(e => e.Type + "/" + e.Index));
    }

    private static async Task<List<RunEvent>> DrainAsync(SubscriberOutbox outbox)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = new List<RunEvent>();
        while (await outbox.ReadAsync(timeout.Token) is { } runEvent)
        {
            received.Add(runEvent);
        }
        return received;
    }
}
