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
