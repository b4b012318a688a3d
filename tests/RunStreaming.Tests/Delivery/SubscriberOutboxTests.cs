using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Telemetry;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.RunStreaming.Tests.Delivery;

public sealed class SubscriberOutboxTests
{
    private readonly RunScript _run = new("t1", "r1");

    [Fact]
    public void Enqueue_BelowSoftLimit_KeepsEveryDelta()
    {
        var outbox = new SubscriberOutbox(Limits(soft: 100, hard: 1000));
        for (var i = 0; i < 10; i++)
        {
            outbox.Enqueue(_run.Token("writer", 1, i, "x"));
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), ReadAll(outbox).Select(e => e.Index));
        Assert.Equal(0, outbox.CoalescedCount);
    }

    [Fact]
    public void Enqueue_AboveSoftLimit_CoalescesDeltasIntoARangeIdWithTheLastIndexAndTheFirstOffset()
    {
        var outbox = new SubscriberOutbox(Limits(soft: 3, hard: 100));
        outbox.Enqueue(_run.Started("writer", 1));
        for (var i = 0; i < 10; i++)
        {
            outbox.Enqueue(_run.Token("writer", 1, i, i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var read = ReadAll(outbox);

        Assert.Equal([RunEventTypes.StepStarted, RunEventTypes.Token, RunEventTypes.Token], read.Select(e => e.Type));
        Assert.Equal("0", read[1].Text);
        Assert.Equal(RunEventIds.ForTokenRange("r1", "writer", 1, 1, 9), read[2].Id);
        Assert.Equal(9, read[2].Index);
        Assert.Equal("123456789", read[2].Text);
        var client = new ClientTranscript();
        read.ForEach(client.Apply);
        Assert.Equal("writer=0123456789", client.Render());
    }

    [Fact]
    public void Enqueue_ControlEventIntoBacklog_CoalescesQueuedDeltasAheadOfItKeepingCausalOrder()
    {
        var outbox = new SubscriberOutbox(Limits(soft: 4, hard: 1000));
        var texts = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            outbox.Enqueue(_run.Token("writer", 1, i, $"w{i} "));
            outbox.Enqueue(_run.Token("critic", 1, i, $"c{i} "));
        }
        outbox.Enqueue(_run.InputRequested("writer", 1));
        outbox.Enqueue(_run.Token("writer", 1, 4, "after"));

        var read = ReadAll(outbox);

        // Eight queued deltas became one per step attempt, then the control event, then what came after it.
        Assert.Equal(["token", "token", "input.requested", "token"], read.Select(e => e.Type));
        Assert.Equal(("writer", 3L, "w0 w1 w2 w3 "), (read[0].Step!, read[0].Index, read[0].Text!));
        Assert.Equal(("critic", 3L, "c0 c1 c2 c3 "), (read[1].Step!, read[1].Index, read[1].Text!));
        Assert.Equal(4, read[3].Index);
    }

    [Fact]
    public async Task Enqueue_PastHardLimit_FailsWithSlowConsumerAndDropsTheQueue()
    {
        var limits = Limits(soft: 2, hard: 8);
        limits.HardLimitBytes = 4096;
        limits.SoftLimitBytes = 1024;
        var outbox = new SubscriberOutbox(limits);
        var accepted = true;
        for (var i = 0; accepted && i < 1000; i++)
        {
            accepted = outbox.Enqueue(_run.Token("writer", 1, i, new string('x', 64)));
        }

        Assert.False(accepted);
        Assert.True(outbox.Failed);
        Assert.True(outbox.PeakBytes <= limits.HardLimitBytes + 1024, $"peak {outbox.PeakBytes} bytes");
        var error = await Assert.ThrowsAsync<SlowConsumerException>(async () => await outbox.ReadAsync(CancellationToken.None));
        Assert.StartsWith("[slow_consumer] ", error.Message, StringComparison.Ordinal);
        Assert.False(outbox.Enqueue(_run.Token("writer", 1, 2000, "x")));
    }

    [Fact]
    public async Task ReadAsync_WaitsForTheNextEventAndEndsAfterComplete()
    {
        var outbox = new SubscriberOutbox(Limits(soft: 10, hard: 100));
        var next = outbox.ReadAsync(CancellationToken.None).AsTask();
        Assert.False(next.IsCompleted);

        outbox.Enqueue(_run.Started("writer", 1));
        outbox.Complete();

        Assert.Equal(RunEventTypes.StepStarted, (await next)!.Type);
        Assert.Null(await outbox.ReadAsync(CancellationToken.None));
    }

    private static DeliveryOptions Limits(int soft, int hard) => new() { SoftLimitEvents = soft, HardLimitEvents = hard };

    private static List<RunEvent> ReadAll(SubscriberOutbox outbox)
    {
        var read = new List<RunEvent>();
        while (outbox.TryRead(out var runEvent))
        {
            read.Add(runEvent!);
        }
        return read;
    }
}
