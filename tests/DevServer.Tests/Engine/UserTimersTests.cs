using AgentOrchestrator.DevServer.Engine.State;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Tests.Engine;

/// <summary>User timers on a fake clock: firing, and cancelling one whose TimerFired waits in the buffer.</summary>
public sealed class UserTimersTests
{
    [Fact]
    public async Task Start_ClockPassesFireTime_WritesTimerFiredAndSchedulesATask()
    {
        using var harness = new EngineHarness();
        harness.Start("wf-timer", "tq");
        harness.Complete(await harness.PollWorkflowTaskAsync("tq"), stickyQueue: null, EngineHarness.StartTimer("t1", TimeSpan.FromMinutes(5)));

        harness.Time.Advance(TimeSpan.FromMinutes(4));
        Assert.DoesNotContain(EventType.TimerFired, harness.EventTypes("wf-timer"));
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        var next = await harness.PollWorkflowTaskAsync("tq");

        var fired = Assert.Single(next.History.Events, e => e.EventType == EventType.TimerFired);
        Assert.Equal("t1", fired.TimerFiredEventAttributes.TimerId);
        Assert.Empty(harness.Read("wf-timer", run => run.Timers));
    }

    [Fact]
    public async Task Cancel_TimerFiredWhileTheTaskRan_DropsTheBufferedTimerFired()
    {
        // The task in flight must outlive the clock's jump to the timer.
        using var harness = new EngineHarness(new DevServerOptions { DefaultWorkflowTaskTimeout = TimeSpan.FromMinutes(2) });
        harness.Start("wf-cancel", "tq");
        harness.Complete(await harness.PollWorkflowTaskAsync("tq"), stickyQueue: null, EngineHarness.StartTimer("t1", TimeSpan.FromSeconds(30)));
        harness.Engine.Signals.Signal(new SignalWorkflowExecutionRequest
        {
            Namespace = EngineHarness.Namespace,
            WorkflowExecution = new Temporalio.Api.Common.V1.WorkflowExecution { WorkflowId = "wf-cancel" },
            SignalName = "wake",
            RequestId = Guid.NewGuid().ToString(),
        });
        var inFlight = await harness.PollWorkflowTaskAsync("tq");

        harness.Time.Advance(TimeSpan.FromSeconds(30));
        await harness.WaitUntilAsync("wf-cancel", run => run.Buffer.Exists(e => e.EventType == EventType.TimerFired), "the timer fires into the buffer");
        harness.Complete(inFlight, stickyQueue: null, EngineHarness.CancelTimer("t1"));

        var types = harness.EventTypes("wf-cancel");
        Assert.Contains(EventType.TimerCanceled, types);
        Assert.DoesNotContain(EventType.TimerFired, types);
        Assert.Equal(WorkflowTaskState.None, harness.Read("wf-cancel", run => run.Wft));
    }
}
