using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Time.Testing;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Worker;
using Temporalio.Workflows;
using static AgentOrchestrator.DevServer.Tests.ScenarioHelpers;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>Spec 8.1 scenarios 9-10: timers that fire, timers cancelled, and a timer that fires while being cancelled.</summary>
public sealed class TimerTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class DelayWorkflow
    {
        [WorkflowRun]
        public async Task<string> RunAsync()
        {
            await Workflow.DelayAsync(TimeSpan.FromSeconds(1));
            return "fired";
        }
    }

    /// <summary>
    /// Starts a timer, cancels it through its token when signalled (after an optional gate that holds the
    /// cancelling task open), then either completes in that task or waits for a second signal.
    /// </summary>
    [Workflow]
    public sealed class CancelDelayWorkflow
    {
        private bool _cancel;
        private bool _finish;

        [WorkflowRun]
        public async Task<string> RunAsync(TimeSpan delay, bool completeInCancellingTask)
        {
            using var cancel = new CancellationTokenSource();
            var timer = Workflow.DelayAsync(delay, cancel.Token);
            await Workflow.WaitConditionAsync(() => _cancel);
            WorkflowTaskGate.PassOnce(Workflow.Info.WorkflowId);
            cancel.Cancel();
            string outcome;
            try
            {
                await timer;
                outcome = "fired";
            }
            catch (OperationCanceledException)
            {
                outcome = "cancelled";
            }
            if (!completeInCancellingTask)
            {
                await Workflow.WaitConditionAsync(() => _finish);
            }
            return outcome;
        }

        [WorkflowSignal]
        public Task CancelTimerAsync()
        {
            _cancel = true;
            return Task.CompletedTask;
        }

        [WorkflowSignal]
        public Task FinishAsync()
        {
            _finish = true;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Delay_Elapses_RecordsTimerStartedThenFired()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<DelayWorkflow>());
        var handle = await client.StartWorkflowAsync((DelayWorkflow wf) => wf.RunAsync(), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));

        Assert.Equal("fired", await handle.GetResultAsync());
        var history = await handle.FetchHistoryAsync();
        Assert.Equal(
            [
                .. FirstWorkflowTask,
                EventType.TimerStarted, EventType.TimerFired,
                .. CompletingWorkflowTask,
            ],
            EventTypes(history));
        var events = history.Events.ToList();
        var started = events[4].TimerStartedEventAttributes;
        var fired = events[5].TimerFiredEventAttributes;
        Assert.Equal(TimeSpan.FromSeconds(1), started.StartToFireTimeout.ToTimeSpan());
        Assert.Equal(4, started.WorkflowTaskCompletedEventId);
        Assert.Equal(started.TimerId, fired.TimerId);
        Assert.Equal(5, fired.StartedEventId);
        await Replay.AssertDeterministicAsync(history, typeof(DelayWorkflow));
    }

    [Fact]
    public async Task Delay_CancelledByToken_RecordsTimerCanceledAndNeverFires()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<CancelDelayWorkflow>());
        var handle = await client.StartWorkflowAsync((CancelDelayWorkflow wf) => wf.RunAsync(TimeSpan.FromSeconds(2), false),
            new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        await WaitForEventAsync(handle, EventType.TimerStarted, TimeSpan.FromSeconds(60), "TimerStarted");
        await handle.SignalAsync(wf => wf.CancelTimerAsync());
        await WaitForEventAsync(handle, EventType.TimerCanceled, TimeSpan.FromSeconds(60), "TimerCanceled");

        // Wait until the cancelled timer would have fired (its 2 s measured on the server's clock), then finish.
        var canceledAt = (await handle.FetchHistoryAsync()).Events.Single(e => e.EventType == EventType.TimerCanceled).EventTime.ToDateTime();
        await Eventually.TrueAsync(() => DateTime.UtcNow > canceledAt + TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(30), "timer due time passed");
        await handle.SignalAsync(wf => wf.FinishAsync());

        Assert.Equal("cancelled", await handle.GetResultAsync());
        var history = await handle.FetchHistoryAsync();
        Assert.Equal(
            [
                .. FirstWorkflowTask,
                EventType.TimerStarted,
                EventType.WorkflowExecutionSignaled, .. WorkflowTask,
                EventType.TimerCanceled,
                EventType.WorkflowExecutionSignaled, .. WorkflowTask,
                EventType.WorkflowExecutionCompleted,
            ],
            EventTypes(history));
        var events = history.Events.ToList();
        var canceled = events[9].TimerCanceledEventAttributes;
        Assert.Equal(events[4].TimerStartedEventAttributes.TimerId, canceled.TimerId);
        Assert.Equal(5, canceled.StartedEventId);
        Assert.Equal(9, canceled.WorkflowTaskCompletedEventId);
        await Replay.AssertDeterministicAsync(history, typeof(CancelDelayWorkflow));
    }

    /// <summary>
    /// The server runs on a fake clock, so the timer can be made to expire exactly while the workflow task
    /// that cancels it is held open; the buffered TimerFired must then be dropped.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CancelTimer_TimerFiresDuringCancellingTask_OnlyTimerCanceledRecorded(bool completeInCancellingTask)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await DevServerHost.StartAsync(new DevServerOptions { Port = 0, Namespace = "default" }, timeProvider: time);
        var client = await ConnectAsync(host);
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue) { DebugMode = true }.AddWorkflow<CancelDelayWorkflow>());
        var id = $"wf-{Guid.NewGuid()}";
        WorkflowTaskGate.Arm(id);
        try
        {
            // The workflow task timeout (fake clock) must outlast the advance below.
            var handle = await client.StartWorkflowAsync((CancelDelayWorkflow wf) => wf.RunAsync(TimeSpan.FromSeconds(5), completeInCancellingTask),
                new WorkflowOptions(id, taskQueue) { TaskTimeout = TimeSpan.FromMinutes(1) });
            await WaitForEventAsync(handle, EventType.TimerStarted, TimeSpan.FromSeconds(60), "TimerStarted");
            await handle.SignalAsync(wf => wf.CancelTimerAsync());
            await WorkflowTaskGate.WaitEnteredAsync(id);

            // The cancelling task is in flight: let the timer expire now.
            time.Advance(TimeSpan.FromSeconds(6));
            await Eventually.TrueAsync(() => EngineProbe.IsBuffered(host, id, EventType.TimerFired), TimeSpan.FromSeconds(30), "TimerFired buffered");
            WorkflowTaskGate.Release(id);

            if (!completeInCancellingTask)
            {
                await WaitForEventAsync(handle, EventType.TimerCanceled, TimeSpan.FromSeconds(60), "TimerCanceled");
                await handle.SignalAsync(wf => wf.FinishAsync());
            }
            Assert.Equal("cancelled", await handle.GetResultAsync());

            var history = await handle.FetchHistoryAsync();
            var types = EventTypes(history);
            Assert.DoesNotContain(EventType.TimerFired, types);
            Assert.DoesNotContain(EventType.WorkflowTaskFailed, types);
            List<EventType> expected =
            [
                .. FirstWorkflowTask,
                EventType.TimerStarted,
                EventType.WorkflowExecutionSignaled, .. WorkflowTask,
                EventType.TimerCanceled,
            ];
            if (!completeInCancellingTask)
            {
                // Dropping the fired event leaves nothing new for the workflow: no extra task until the next signal.
                expected.AddRange([EventType.WorkflowExecutionSignaled, .. WorkflowTask]);
            }
            expected.Add(EventType.WorkflowExecutionCompleted);
            Assert.Equal(expected, types);
            var canceled = history.Events.ElementAt(9).TimerCanceledEventAttributes;
            Assert.Equal(5, canceled.StartedEventId);
            Assert.Equal(9, canceled.WorkflowTaskCompletedEventId);
            await Replay.AssertDeterministicAsync(history, typeof(CancelDelayWorkflow));
        }
        finally
        {
            WorkflowTaskGate.Release(id);
        }
    }
}
