using AgentOrchestrator.DevServer.Engine.State;
using Temporalio.Api.Enums.V1;

namespace AgentOrchestrator.DevServer.Tests.Engine;

/// <summary>Workflow task routing and timeouts, driven through the dispatcher on a fake clock.</summary>
public sealed class WorkflowTaskDispatcherTests
{
    [Fact]
    public async Task Schedule_RunHasStickyQueue_TaskGoesThereWithOnlyTheNewEvents()
    {
        using var harness = new EngineHarness();
        harness.Start("wf-sticky", "tq");
        var first = await harness.PollWorkflowTaskAsync("tq");
        harness.Complete(first, stickyQueue: "sticky-1", EngineHarness.StartTimer("t1", TimeSpan.FromSeconds(10)));

        harness.Time.Advance(TimeSpan.FromSeconds(10));
        var next = await harness.PollWorkflowTaskAsync("sticky-1", sticky: true, normalName: "tq");

        Assert.Equal(first.StartedEventId, next.PreviousStartedEventId);
        Assert.Equal(first.StartedEventId + 1, next.History.Events[0].EventId);
        Assert.Contains(next.History.Events, e => e.EventType == EventType.TimerFired);
    }

    [Fact]
    public async Task Schedule_StickyTaskNotTakenInTime_MovesToNormalQueueWithFullHistory()
    {
        using var harness = new EngineHarness();
        harness.Start("wf-sticky-late", "tq");
        var first = await harness.PollWorkflowTaskAsync("tq");
        harness.Complete(first, stickyQueue: "sticky-gone", EngineHarness.StartTimer("t1", TimeSpan.FromSeconds(10)));
        harness.Time.Advance(TimeSpan.FromSeconds(10));
        await harness.WaitUntilAsync("wf-sticky-late", run => run.Wft == WorkflowTaskState.Scheduled, "the fired timer schedules a task");

        harness.Time.Advance(TimeSpan.FromSeconds(5));
        var moved = await harness.PollWorkflowTaskAsync("tq");

        Assert.Equal(1, moved.History.Events[0].EventId);
        Assert.Equal(EventType.WorkflowExecutionStarted, moved.History.Events[0].EventType);
    }

    [Fact]
    public async Task CloseStickyQueue_TaskWaitingThere_MovesToNormalQueueAtOnce()
    {
        using var harness = new EngineHarness();
        harness.Start("wf-shutdown", "tq");
        var first = await harness.PollWorkflowTaskAsync("tq");
        harness.Complete(first, stickyQueue: "sticky-stopping", EngineHarness.StartTimer("t1", TimeSpan.FromSeconds(10)));
        harness.Time.Advance(TimeSpan.FromSeconds(10));
        await harness.WaitUntilAsync("wf-shutdown", run => run.Wft == WorkflowTaskState.Scheduled, "the fired timer schedules a task");

        harness.Engine.WorkflowTasks.CloseStickyQueue(EngineHarness.Namespace, "sticky-stopping");
        var moved = await harness.PollWorkflowTaskAsync("tq");

        Assert.Equal(1, moved.History.Events[0].EventId);
        Assert.Null(harness.Read("wf-shutdown", run => run.StickyQueue));
    }

    [Fact]
    public async Task StartedTask_NotCompletedInTime_TimesOutAndIsRetriedWithTheNextAttempt()
    {
        using var harness = new EngineHarness(new DevServerOptions { DefaultWorkflowTaskTimeout = TimeSpan.FromSeconds(10) });
        harness.Start("wf-timeout", "tq");
        var first = await harness.PollWorkflowTaskAsync("tq");

        harness.Time.Advance(TimeSpan.FromSeconds(10));
        var retry = await harness.PollWorkflowTaskAsync("tq");

        Assert.Equal(1, first.Attempt);
        Assert.Equal(2, retry.Attempt);
        Assert.Equal(
            [EventType.WorkflowExecutionStarted, EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted, EventType.WorkflowTaskTimedOut,
                EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted],
            harness.EventTypes("wf-timeout"));
    }
}
