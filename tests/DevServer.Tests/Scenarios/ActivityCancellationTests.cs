using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.TaskQueue.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;
using static AgentOrchestrator.DevServer.Tests.ScenarioHelpers;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>
/// Spec 8.1 scenarios 7-8: cancelling a started (heartbeating) activity and a not-started one, plus what
/// follows a cancel request (no retries, CANCEL_REQUESTED retry state) and a completion racing the request.
/// </summary>
public sealed class ActivityCancellationTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    private static readonly ConcurrentDictionary<string, bool> ActivityStarted = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> HeartbeatNow = new();
    private static readonly ConcurrentDictionary<string, ActivityCancelReason> CancelReasons = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> ReleaseCancellation = new();
    private static readonly ConcurrentDictionary<string, int> LastAttempt = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> ReleaseStall = new();

    public static class Activities
    {
        [Activity]
        public static async Task<string> StallUntilReleasedAsync()
        {
            var id = ActivityExecutionContext.Current.Info.WorkflowId!;
            ActivityStarted[id] = true;
            await ReleaseStall[id].Task;
            return "done";
        }

        /// <summary>Never heartbeats, so it never learns of a cancel request; runs until the test lets it go.</summary>
        [Activity]
        public static async Task StallIgnoringCancelAsync()
        {
            var id = ActivityExecutionContext.Current.Info.WorkflowId!;
            ActivityStarted[id] = true;
            await ReleaseStall[id].Task;
        }

        [Activity]
        public static string FailFirstAttempt()
        {
            var info = ActivityExecutionContext.Current.Info;
            LastAttempt[info.WorkflowId!] = info.Attempt;
            if (info.Attempt == 1)
            {
                throw new ApplicationFailureException("first attempt fails", errorType: "Transient");
            }
            return "done";
        }

        /// <summary>
        /// Heartbeats only once the test says so (so the first heartbeat after the cancel request is the one
        /// that carries it), then holds its cancellation until the test releases it.
        /// </summary>
        [Activity]
        public static async Task HeartbeatUntilCancelledAsync(bool failOnCancel)
        {
            var context = ActivityExecutionContext.Current;
            var id = context.Info.WorkflowId!;
            ActivityStarted[id] = true;
            LastAttempt[id] = context.Info.Attempt;
            await HeartbeatNow[id].Task.WaitAsync(context.CancellationToken);
            try
            {
                while (true)
                {
                    context.Heartbeat();
                    await Task.Delay(100, context.CancellationToken);
                }
            }
            catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
            {
                CancelReasons[id] = context.CancelReason;
                await ReleaseCancellation[id].Task;
                if (failOnCancel)
                {
                    throw new ApplicationFailureException("gave up instead", errorType: "Transient");
                }
                throw;
            }
        }
    }

    [Workflow]
    public sealed class CancelActivityWorkflow
    {
        private bool _cancel;

        /// <summary>Runs one activity (on <paramref name="activityQueue"/> when given) and cancels it on signal.</summary>
        [WorkflowRun]
        public async Task<string> RunAsync(string? activityQueue, bool failOnCancel)
        {
            using var cancel = new CancellationTokenSource();
            var options = new ActivityOptions
            {
                StartToCloseTimeout = TimeSpan.FromMinutes(2),
                HeartbeatTimeout = TimeSpan.FromSeconds(10),
                RetryPolicy = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(100), MaximumAttempts = 5 },
                CancellationType = ActivityCancellationType.WaitCancellationCompleted,
                CancellationToken = cancel.Token,
            };
            Task activity;
            if (activityQueue is null)
            {
                activity = Workflow.ExecuteActivityAsync(() => Activities.HeartbeatUntilCancelledAsync(failOnCancel), options);
            }
            else
            {
                options.TaskQueue = activityQueue;
                activity = Workflow.ExecuteActivityAsync("Unpolled", Array.Empty<object?>(), options);
            }
            await Workflow.WaitConditionAsync(() => _cancel);
            // Workflow code must not use CancelAsync: it would run the callbacks on the thread pool.
            cancel.Cancel();
            try
            {
                await activity;
                return "completed";
            }
            catch (ActivityFailureException e) when (e.InnerException is CanceledFailureException)
            {
                return "cancelled";
            }
            catch (ActivityFailureException e) when (e.InnerException is ApplicationFailureException cause)
            {
                return $"failed/{e.RetryState}/{cause.Message}";
            }
        }

        [WorkflowSignal]
        public Task CancelActivityAsync()
        {
            _cancel = true;
            return Task.CompletedTask;
        }
    }

    /// <summary>Cancels its activity in a task held open by the test, so the activity can complete meanwhile.</summary>
    [Workflow]
    public sealed class CancelRacesCompletionWorkflow
    {
        private bool _cancel;

        [WorkflowRun]
        public async Task<string> RunAsync()
        {
            using var cancel = new CancellationTokenSource();
            var activity = Workflow.ExecuteActivityAsync(() => Activities.StallUntilReleasedAsync(), new ActivityOptions
            {
                StartToCloseTimeout = TimeSpan.FromMinutes(2),
                CancellationType = ActivityCancellationType.WaitCancellationCompleted,
                CancellationToken = cancel.Token,
            });
            await Workflow.WaitConditionAsync(() => _cancel);
            WorkflowTaskGate.PassOnce(Workflow.Info.WorkflowId);
            cancel.Cancel();
            try
            {
                return "completed:" + await activity;
            }
            catch (ActivityFailureException e) when (e.InnerException is CanceledFailureException)
            {
                return "cancelled";
            }
        }

        [WorkflowSignal]
        public Task CancelActivityAsync()
        {
            _cancel = true;
            return Task.CompletedTask;
        }
    }

    /// <summary>Cancels a started activity that ignores the request and runs into its schedule-to-close timeout.</summary>
    [Workflow]
    public sealed class CancelIgnoredWorkflow
    {
        private bool _cancel;

        [WorkflowRun]
        public async Task<string> RunAsync()
        {
            using var cancel = new CancellationTokenSource();
            var activity = Workflow.ExecuteActivityAsync(() => Activities.StallIgnoringCancelAsync(), new ActivityOptions
            {
                ScheduleToCloseTimeout = TimeSpan.FromSeconds(6),
                CancellationType = ActivityCancellationType.WaitCancellationCompleted,
                CancellationToken = cancel.Token,
            });
            await Workflow.WaitConditionAsync(() => _cancel);
            cancel.Cancel();
            try
            {
                await activity;
                return "completed";
            }
            catch (ActivityFailureException e) when (e.InnerException is TimeoutFailureException timeout)
            {
                return $"{e.RetryState}/{timeout.TimeoutType}";
            }
        }

        [WorkflowSignal]
        public Task CancelActivityAsync()
        {
            _cancel = true;
            return Task.CompletedTask;
        }
    }

    /// <summary>Its activity fails once and then waits out a long retry backoff until cancelled.</summary>
    [Workflow]
    public sealed class CancelDuringBackoffWorkflow
    {
        private bool _cancel;

        [WorkflowRun]
        public async Task<string> RunAsync()
        {
            using var cancel = new CancellationTokenSource();
            var activity = Workflow.ExecuteActivityAsync(() => Activities.FailFirstAttempt(), new ActivityOptions
            {
                StartToCloseTimeout = TimeSpan.FromSeconds(30),
                RetryPolicy = new RetryPolicy { InitialInterval = TimeSpan.FromMinutes(10) },
                CancellationType = ActivityCancellationType.WaitCancellationCompleted,
                CancellationToken = cancel.Token,
            });
            await Workflow.WaitConditionAsync(() => _cancel);
            cancel.Cancel();
            try
            {
                await activity;
                return "completed";
            }
            catch (ActivityFailureException e) when (e.InnerException is CanceledFailureException)
            {
                return "cancelled";
            }
        }

        [WorkflowSignal]
        public Task CancelActivityAsync()
        {
            _cancel = true;
            return Task.CompletedTask;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static WorkerScope StartHeartbeatWorker(TemporalClient client, string taskQueue) =>
        WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<CancelActivityWorkflow>()
            .AddActivity(Activities.HeartbeatUntilCancelledAsync));

    /// <summary>A workflow id whose heartbeating activity waits for the test to let it heartbeat and to release its cancellation.</summary>
    private static string NewHeartbeatRun()
    {
        var id = $"wf-{Guid.NewGuid()}";
        HeartbeatNow[id] = NewSignal();
        ReleaseCancellation[id] = NewSignal();
        return id;
    }

    private static Task WaitForActivityStartedAsync(string workflowId) =>
        Eventually.TrueAsync(() => ActivityStarted.ContainsKey(workflowId), TimeSpan.FromSeconds(60), "activity started");

    /// <summary>
    /// Starts <see cref="CancelActivityWorkflow"/> on its heartbeating activity, waits for the activity to start,
    /// then has the workflow cancel it and waits for ActivityTaskCancelRequested.
    /// </summary>
    private static async Task<WorkflowHandle<CancelActivityWorkflow, string>> StartAndRequestHeartbeatCancelAsync(
        TemporalClient client, string workflowId, string taskQueue, bool failOnCancel)
    {
        var handle = await client.StartWorkflowAsync((CancelActivityWorkflow wf) => wf.RunAsync(null, failOnCancel), new WorkflowOptions(workflowId, taskQueue));
        await WaitForActivityStartedAsync(workflowId);
        await handle.SignalAsync(wf => wf.CancelActivityAsync());
        await WaitForEventAsync(handle, EventType.ActivityTaskCancelRequested, TimeSpan.FromSeconds(60), "ActivityTaskCancelRequested");
        return handle;
    }

    [Fact]
    public async Task CancelHeartbeatingActivity_WaitCancellationCompleted_ResolvesOnlyAfterActivityTaskCanceled()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = StartHeartbeatWorker(client, taskQueue);
        var id = NewHeartbeatRun();
        try
        {
            var handle = await StartAndRequestHeartbeatCancelAsync(client, id, taskQueue, failOnCancel: false);
            // The first heartbeat after the request learns of it.
            HeartbeatNow[id].SetResult();
            await Eventually.TrueAsync(() => CancelReasons.ContainsKey(id), TimeSpan.FromSeconds(60), "activity cancelled through its heartbeat");
            Assert.Equal(ActivityCancelReason.CancelRequested, CancelReasons[id]);

            // While the activity has not reported its cancellation, the workflow is still waiting.
            var midway = EventTypes(await handle.FetchHistoryAsync());
            Assert.DoesNotContain(EventType.ActivityTaskCanceled, midway);
            Assert.DoesNotContain(EventType.ActivityTaskStarted, midway);
            Assert.Equal(EventType.ActivityTaskCancelRequested, midway[^1]);
            Assert.Equal(WorkflowExecutionStatus.Running, (await handle.DescribeAsync()).Status);

            ReleaseCancellation[id].SetResult();
            Assert.Equal("cancelled", await handle.GetResultAsync());

            var history = await handle.FetchHistoryAsync();
            Assert.Equal(
                [
                    .. FirstWorkflowTask,
                    EventType.ActivityTaskScheduled,
                    EventType.WorkflowExecutionSignaled, .. WorkflowTask,
                    EventType.ActivityTaskCancelRequested,
                    EventType.ActivityTaskStarted, EventType.ActivityTaskCanceled,
                    .. CompletingWorkflowTask,
                ],
                EventTypes(history));
            var events = history.Events.ToList();
            Assert.Equal(9, events[9].ActivityTaskCancelRequestedEventAttributes.WorkflowTaskCompletedEventId);
            Assert.Equal(5, events[9].ActivityTaskCancelRequestedEventAttributes.ScheduledEventId);
            Assert.Equal(5, events[10].ActivityTaskStartedEventAttributes.ScheduledEventId);
            var canceled = events[11].ActivityTaskCanceledEventAttributes;
            Assert.Equal(5, canceled.ScheduledEventId);
            Assert.Equal(11, canceled.StartedEventId);
            Assert.Equal(10, canceled.LatestCancelRequestedEventId);
            await Replay.AssertDeterministicAsync(history, typeof(CancelActivityWorkflow));
        }
        finally
        {
            HeartbeatNow[id].TrySetResult();
            ReleaseCancellation[id].TrySetResult();
        }
    }

    [Fact]
    public async Task CancelHeartbeatingActivity_ActivityFailsInsteadOfCancelling_IsNotRetried()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = StartHeartbeatWorker(client, taskQueue);
        var id = NewHeartbeatRun();
        ReleaseCancellation[id].SetResult();
        try
        {
            var handle = await StartAndRequestHeartbeatCancelAsync(client, id, taskQueue, failOnCancel: true);
            HeartbeatNow[id].SetResult();

            // A failure after the cancel request ends the activity (retry state CANCEL_REQUESTED), despite attempts left.
            Assert.Equal($"failed/{RetryState.CancelRequested}/gave up instead", await handle.GetResultAsync());
            Assert.Equal(1, LastAttempt[id]);
            var history = await handle.FetchHistoryAsync();
            var failed = Assert.Single(history.Events, e => e.EventType == EventType.ActivityTaskFailed).ActivityTaskFailedEventAttributes;
            Assert.Equal(RetryState.CancelRequested, failed.RetryState);
            var started = Assert.Single(history.Events, e => e.EventType == EventType.ActivityTaskStarted);
            Assert.Equal(1, started.ActivityTaskStartedEventAttributes.Attempt);
            Assert.Equal(started.EventId, failed.StartedEventId);
            await Replay.AssertDeterministicAsync(history, typeof(CancelActivityWorkflow));
        }
        finally
        {
            HeartbeatNow[id].TrySetResult();
        }
    }

    [Fact]
    public async Task CancelStartedActivity_IgnoredUntilScheduleToClose_TimesOutWithCancelRequestedRetryState()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<CancelIgnoredWorkflow>()
            .AddActivity(Activities.StallIgnoringCancelAsync));
        var id = $"wf-{Guid.NewGuid()}";
        ReleaseStall[id] = NewSignal();
        try
        {
            var handle = await client.StartWorkflowAsync((CancelIgnoredWorkflow wf) => wf.RunAsync(), new WorkflowOptions(id, taskQueue));
            await WaitForActivityStartedAsync(id);
            await handle.SignalAsync(wf => wf.CancelActivityAsync());

            Assert.Equal($"{RetryState.CancelRequested}/{TimeoutType.ScheduleToClose}", await handle.GetResultAsync());
            var history = await handle.FetchHistoryAsync();
            var types = EventTypes(history);
            Assert.True(types.IndexOf(EventType.ActivityTaskCancelRequested) < types.IndexOf(EventType.ActivityTaskTimedOut));
            var timedOut = Assert.Single(history.Events, e => e.EventType == EventType.ActivityTaskTimedOut).ActivityTaskTimedOutEventAttributes;
            Assert.Equal(RetryState.CancelRequested, timedOut.RetryState);
            Assert.Equal(TimeoutType.ScheduleToClose, timedOut.Failure.TimeoutFailureInfo.TimeoutType);
            await Replay.AssertDeterministicAsync(history, typeof(CancelIgnoredWorkflow));
        }
        finally
        {
            ReleaseStall[id].TrySetResult();
        }
    }

    /// <summary>
    /// The activity completes while the task that cancels it is in flight: the server records the cancel
    /// request, then the buffered Started/Completed, and the workflow gets the result.
    /// </summary>
    [Fact]
    public async Task CancelActivity_CompletesWhileCancellingTaskRuns_RecordsRequestThenCompletion()
    {
        // Its own server, so the test can see the engine's buffer (invisible through the API).
        await using var host = await DevServerHost.StartAsync(new DevServerOptions { Port = 0, Namespace = server.Namespace });
        var client = await ConnectAsync(host, server.Namespace);
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue) { DebugMode = true }
            .AddWorkflow<CancelRacesCompletionWorkflow>()
            .AddActivity(Activities.StallUntilReleasedAsync));
        var id = $"wf-{Guid.NewGuid()}";
        ReleaseStall[id] = NewSignal();
        WorkflowTaskGate.Arm(id);
        try
        {
            var handle = await client.StartWorkflowAsync((CancelRacesCompletionWorkflow wf) => wf.RunAsync(), new WorkflowOptions(id, taskQueue));
            await WaitForActivityStartedAsync(id);
            await handle.SignalAsync(wf => wf.CancelActivityAsync());
            await WorkflowTaskGate.WaitEnteredAsync(id);
            ReleaseStall[id].SetResult();
            await Eventually.TrueAsync(() => EngineProbe.IsBuffered(host, id, EventType.ActivityTaskCompleted), TimeSpan.FromSeconds(60), "completion buffered");
            WorkflowTaskGate.Release(id);

            Assert.Equal("completed:done", await handle.GetResultAsync());
            var history = await handle.FetchHistoryAsync();
            Assert.Equal(
                [
                    .. FirstWorkflowTask,
                    EventType.ActivityTaskScheduled,
                    EventType.WorkflowExecutionSignaled, .. WorkflowTask,
                    EventType.ActivityTaskCancelRequested, EventType.ActivityTaskStarted, EventType.ActivityTaskCompleted,
                    .. CompletingWorkflowTask,
                ],
                EventTypes(history));
            var events = history.Events.ToList();
            Assert.Equal(5, events[9].ActivityTaskCancelRequestedEventAttributes.ScheduledEventId);
            Assert.Equal(11, events[11].ActivityTaskCompletedEventAttributes.StartedEventId);
            await Replay.AssertDeterministicAsync(history, typeof(CancelRacesCompletionWorkflow));
        }
        finally
        {
            WorkflowTaskGate.Release(id);
            ReleaseStall[id].TrySetResult();
        }
    }

    [Fact]
    public async Task CancelActivity_WaitingForRetryBackoff_CancelsImmediatelyWithoutStartedEvent()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<CancelDuringBackoffWorkflow>()
            .AddActivity(Activities.FailFirstAttempt));
        var id = $"wf-{Guid.NewGuid()}";
        var handle = await client.StartWorkflowAsync((CancelDuringBackoffWorkflow wf) => wf.RunAsync(), new WorkflowOptions(id, taskQueue));
        await Eventually.TrueAsync(() => LastAttempt.TryGetValue(id, out var attempt) && attempt == 1, TimeSpan.FromSeconds(60), "first attempt ran");

        await handle.SignalAsync(wf => wf.CancelActivityAsync());
        Assert.Equal("cancelled", await handle.GetResultAsync());
        Assert.Equal(1, LastAttempt[id]);

        var history = await handle.FetchHistoryAsync();
        var types = EventTypes(history);
        Assert.DoesNotContain(EventType.ActivityTaskStarted, types);
        var requested = Assert.Single(history.Events, e => e.EventType == EventType.ActivityTaskCancelRequested);
        var canceled = Assert.Single(history.Events, e => e.EventType == EventType.ActivityTaskCanceled);
        Assert.Equal(requested.EventId + 1, canceled.EventId);
        Assert.Equal(requested.EventId, canceled.ActivityTaskCanceledEventAttributes.LatestCancelRequestedEventId);
        Assert.Equal(0, canceled.ActivityTaskCanceledEventAttributes.StartedEventId);
        await Replay.AssertDeterministicAsync(history, typeof(CancelDuringBackoffWorkflow));
    }

    [Fact]
    public async Task CancelNotStartedActivity_NoActivityWorker_CancelsImmediatelyAndWakesWorkflow()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var activityQueue = $"unpolled-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<CancelActivityWorkflow>());
        var handle = await client.StartWorkflowAsync((CancelActivityWorkflow wf) => wf.RunAsync(activityQueue, false),
            new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        await WaitForEventAsync(handle, EventType.ActivityTaskScheduled, TimeSpan.FromSeconds(60), "ActivityTaskScheduled");

        await handle.SignalAsync(wf => wf.CancelActivityAsync());
        Assert.Equal("cancelled", await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        Assert.Equal(
            [
                .. FirstWorkflowTask,
                EventType.ActivityTaskScheduled,
                EventType.WorkflowExecutionSignaled, .. WorkflowTask,
                EventType.ActivityTaskCancelRequested, EventType.ActivityTaskCanceled,
                .. CompletingWorkflowTask,
            ],
            EventTypes(history));
        var events = history.Events.ToList();
        Assert.Equal(5, events[9].ActivityTaskCancelRequestedEventAttributes.ScheduledEventId);
        var canceled = events[10].ActivityTaskCanceledEventAttributes;
        Assert.Equal(5, canceled.ScheduledEventId);
        Assert.Equal(10, canceled.LatestCancelRequestedEventId);
        Assert.Equal(0, canceled.StartedEventId);
        await Replay.AssertDeterministicAsync(history, typeof(CancelActivityWorkflow));

        // The cancelled task is never handed to a poller that turns up later.
        var poll = await client.WorkflowService.PollActivityTaskQueueAsync(
            new PollActivityTaskQueueRequest
            {
                Namespace = server.Namespace,
                TaskQueue = new TaskQueue { Name = activityQueue, Kind = TaskQueueKind.Normal },
                Identity = "test",
            },
            new RpcOptions { Timeout = TimeSpan.FromSeconds(5) });
        Assert.True(poll.TaskToken.IsEmpty);
    }
}
