using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Client.Tests;

public sealed class RunEventFilterTests
{
    [Fact]
    public void Accept_SameIdTwice_SecondIsDropped()
    {
        var filter = new RunEventFilter();

        Assert.True(filter.Accept(RunEvents.Run("r", RunEventTypes.RunStarted)));
        Assert.False(filter.Accept(RunEvents.Run("r", RunEventTypes.RunStarted)));
        Assert.True(filter.Accept(RunEvents.Step("r", "writer", 1, RunEventTypes.StepStarted, 0)));
        Assert.False(filter.Accept(RunEvents.Step("r", "writer", 1, RunEventTypes.StepStarted, 0)));
    }

    [Fact]
    public void Accept_TokenAtOrBelowTheLastIndex_IsDropped_ACoalescedTokenPastItIsKept()
    {
        var filter = new RunEventFilter();

        Assert.True(filter.Accept(RunEvents.Token("r", "writer", 1, 0, "a")));
        Assert.True(filter.Accept(RunEvents.Token("r", "writer", 1, 1, "b")));
        Assert.False(filter.Accept(RunEvents.Token("r", "writer", 1, 1, "b")));
        Assert.False(filter.Accept(RunEvents.Token("r", "writer", 1, 0, "a")));
        Assert.True(filter.Accept(RunEvents.Token("r", "writer", 1, 4, "cde")));
        Assert.False(filter.Accept(RunEvents.Token("r", "writer", 1, 3, "d")));
        Assert.True(filter.Accept(RunEvents.Token("r", "reviewer", 1, 0, "x")));
    }

    [Fact]
    public void Take_TokensWithOffsets_DeliverOnlyWhatIsNotHeld_DuplicatesDropped_OverlapsTrimmed()
    {
        var filter = new RunEventFilter();
        static RunEvent At(long index, long offset, string text) => RunEvents.Token("r", "writer", 1, index, text) with { Offset = offset };

        var delivered = new[]
        {
            At(0, 0, "Hel"), At(1, 3, "lo "), At(1, 3, "lo "), At(2, 0, "Hello wor"), At(3, 9, "ld"), At(3, 0, "Hello world"),
            RunEvents.Token("r", "writer", 1, 4, "!"), RunEvents.Token("r", "writer", 1, 4, "!"),
        }.Select(filter.Take).ToList();

        Assert.Equal(["Hel", "lo ", null, "wor", "ld", null, "!", null], delivered.Select(e => e?.Text));
        Assert.Equal(6, delivered[3]!.Offset); // the merged range 0-9, trimmed to what was not held: 6-9
        Assert.Equal(RunEvents.Token("r", "writer", 1, 2, "x").Id, delivered[3]!.Id);
        Assert.True(filter.Accept(At(0, 0, "x") with { Step = "reviewer" }));
    }

    [Fact]
    public void Accept_EventOfAnOlderAttemptAfterANewerOne_IsDropped()
    {
        var filter = new RunEventFilter();
        Assert.True(filter.Accept(RunEvents.Token("r", "writer", 1, 0, "old")));

        Assert.True(filter.Accept(RunEvents.Step("r", "writer", 2, RunEventTypes.StepRetrying, 0)));
        Assert.False(filter.Accept(RunEvents.Token("r", "writer", 1, 1, "late")));
        Assert.True(filter.Accept(RunEvents.Token("r", "writer", 2, 0, "new")));
        Assert.False(filter.Accept(RunEvents.Step("r", "writer", 1, RunEventTypes.StepCompleted, 2)));
    }

    [Fact]
    public void Accept_StreamReset_PassesAndForgetsEverything()
    {
        var filter = new RunEventFilter();
        Assert.True(filter.Accept(RunEvents.Run("r", RunEventTypes.RunStarted)));
        Assert.True(filter.Accept(RunEvents.Token("r", "writer", 1, 0, "a")));

        Assert.True(filter.Accept(RunEvents.Run("r", RunEventTypes.StreamReset)));

        Assert.True(filter.Accept(RunEvents.Run("r", RunEventTypes.RunStarted)));
        Assert.True(filter.Accept(RunEvents.Token("r", "writer", 1, 0, "a")));
    }
}
