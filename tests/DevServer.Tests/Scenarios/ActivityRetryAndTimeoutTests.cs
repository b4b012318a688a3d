using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Google.Protobuf;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Converters;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;
using static AgentOrchestrator.DevServer.Tests.ScenarioHelpers;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>Spec 8.1 scenarios 2-6: activity retries, retry states and the four activity timeouts.</summary>
public sealed class ActivityRetryAndTimeoutTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    internal sealed record AttemptRecord(int Attempt, DateTime CurrentAttemptScheduledTime, DateTime FailedAt);

    /// <summary>What each activity saw, by workflow id (activities are static; tests run in parallel).</summary>
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<AttemptRecord>> Attempts = new();

    private static readonly ConcurrentDictionary<string, byte[]> TaskTokens = new();

    private static readonly ConcurrentDictionary<string, bool> SawCancellation = new();

    private static void Record(ActivityInfo info) =>
        Attempts.GetOrAdd(info.WorkflowId!, _ => new()).Enqueue(new AttemptRecord(info.Attempt, info.CurrentAttemptScheduledTime, DateTime.UtcNow));

    private static int AttemptCount(string workflowId) => Attempts.TryGetValue(workflowId, out var queue) ? queue.Count : 0;

    private static T Decode<T>(Temporalio.Api.Common.V1.Payload payload) => (T)DataConverter.Default.PayloadConverter.ToValue(payload, typeof(T))!;

    public static class Activities
    {
        /// <summary>Fails attempts 1 and 2 with a retryable error, succeeds on 3.</summary>
        [Activity]
        public static int FailTwice()
        {
            var info = ActivityExecutionContext.Current.Info;
            Record(info);
            if (info.Attempt < 3)
            {
                throw new ApplicationFailureException($"attempt {info.Attempt} failed", errorType: "Transient");
            }
            return info.Attempt;
        }

        [Activity]
        public static void AlwaysFail()
        {
            var info = ActivityExecutionContext.Current.Info;
            Record(info);
            throw new ApplicationFailureException($"attempt {info.Attempt} failed", errorType: "Transient");
        }

        [Activity]
        public static void FailWithType(string errorType, bool nonRetryable)
        {
            var info = ActivityExecutionContext.Current.Info;
            Record(info);
            throw new ApplicationFailureException("fatal", errorType: errorType, nonRetryable: nonRetryable);
        }

        /// <summary>Never finishes on its own; records when the worker cancels it.</summary>
        [Activity]
        public static async Task StallAsync()
        {
            var context = ActivityExecutionContext.Current;
            Record(context.Info);
            TaskTokens[context.Info.WorkflowId!] = context.Info.TaskToken;
            try
            {
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }
            finally
            {
                SawCancellation[context.Info.WorkflowId!] = true;
            }
        }

        /// <summary>Attempt 1 heartbeats once and stalls; attempt 2 returns the details it was given.</summary>
        [Activity]
        public static async Task<string> HeartbeatThenStallAsync()
        {
            var context = ActivityExecutionContext.Current;
            Record(context.Info);
            if (context.Info.Attempt == 1)
            {
                context.Heartbeat("progress-1");
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }
            return context.Info.HeartbeatDetails.Count == 0 ? "<none>" : await context.Info.HeartbeatDetailAtAsync<string>(0);
        }

        /// <summary>Fails attempts 1 and 2, then stalls until cancelled.</summary>
        [Activity]
        public static async Task FailTwiceThenStallAsync()
        {
            var context = ActivityExecutionContext.Current;
            Record(context.Info);
            if (context.Info.Attempt < 3)
            {
                throw new ApplicationFailureException($"attempt {context.Info.Attempt} failed", errorType: "Transient");
            }
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }
    }

    [Workflow]
    public sealed class RetryWorkflow
    {
        [WorkflowRun]
        public Task<int> RunAsync() => Workflow.ExecuteActivityAsync(() => Activities.FailTwice(), new ActivityOptions
        {
            StartToCloseTimeout = TimeSpan.FromSeconds(30),
            RetryPolicy = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(500), BackoffCoefficient = 3, MaximumAttempts = 5 },
        });
    }

    [Workflow]
    public sealed class MaxAttemptsWorkflow
    {
        [WorkflowRun]
        public Task RunAsync() => Workflow.ExecuteActivityAsync(() => Activities.AlwaysFail(), new ActivityOptions
        {
            StartToCloseTimeout = TimeSpan.FromSeconds(30),
            RetryPolicy = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(100), MaximumAttempts = 2 },
        });
    }

    [Workflow]
    public sealed class NonRetryableWorkflow
    {
        [WorkflowRun]
        public Task RunAsync(string errorType, bool nonRetryable) => Workflow.ExecuteActivityAsync(
            () => Activities.FailWithType(errorType, nonRetryable), new ActivityOptions
            {
                StartToCloseTimeout = TimeSpan.FromSeconds(30),
                RetryPolicy = new RetryPolicy
                {
                    InitialInterval = TimeSpan.FromMilliseconds(100),
                    MaximumAttempts = 5,
                    NonRetryableErrorTypes = ["Fatal"],
                },
            });
    }

    /// <summary>Runs one stalling activity with no retries, then stays open until told to finish.</summary>
    [Workflow]
    public sealed class StartToCloseWorkflow
    {
        private bool _finish;

        [WorkflowRun]
        public async Task<string> RunAsync()
        {
            string outcome;
            try
            {
                await Workflow.ExecuteActivityAsync(() => Activities.StallAsync(), new ActivityOptions
                {
                    StartToCloseTimeout = TimeSpan.FromSeconds(1),
                    RetryPolicy = new RetryPolicy { MaximumAttempts = 1 },
                });
                outcome = "completed";
            }
            catch (ActivityFailureException e) when (e.InnerException is TimeoutFailureException timeout)
            {
                outcome = $"{e.RetryState}/{timeout.TimeoutType}";
            }
            await Workflow.WaitConditionAsync(() => _finish);
            return outcome;
        }

        [WorkflowSignal]
        public Task FinishAsync()
        {
            _finish = true;
            return Task.CompletedTask;
        }
    }

    [Workflow]
    public sealed class HeartbeatWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(int maximumAttempts) => Workflow.ExecuteActivityAsync(() => Activities.HeartbeatThenStallAsync(), new ActivityOptions
        {
            StartToCloseTimeout = TimeSpan.FromSeconds(60),
            HeartbeatTimeout = TimeSpan.FromSeconds(1),
            RetryPolicy = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(100), MaximumAttempts = maximumAttempts },
        });
    }

    [Workflow]
    public sealed class ScheduleToCloseWorkflow
    {
        [WorkflowRun]
        public Task RunAsync() => Workflow.ExecuteActivityAsync(() => Activities.FailTwiceThenStallAsync(), new ActivityOptions
        {
            ScheduleToCloseTimeout = TimeSpan.FromSeconds(6),
            RetryPolicy = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(100), BackoffCoefficient = 1 },
        });
    }

    /// <summary>Schedules an activity on a queue that no worker polls.</summary>
    [Workflow]
    public sealed class ScheduleToStartWorkflow
    {
        [WorkflowRun]
        public Task RunAsync(string activityQueue) => Workflow.ExecuteActivityAsync("Unpolled", Array.Empty<object?>(), new ActivityOptions
        {
            TaskQueue = activityQueue,
            ScheduleToStartTimeout = TimeSpan.FromSeconds(1),
            StartToCloseTimeout = TimeSpan.FromSeconds(30),
        });
    }

    private static HistoryEvent Single(WorkflowHistory history, EventType type) => Assert.Single(history.Events, e => e.EventType == type);

    [Fact]
    public async Task RetryingActivity_FailsTwice_SucceedsOnThirdAttemptWithBackoffAndOneStartedEvent()
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<RetryWorkflow>().AddActivity(Activities.FailTwice));
        await using var _ = worker;
        var id = $"wf-{Guid.NewGuid()}";
        var handle = await client.StartWorkflowAsync((RetryWorkflow wf) => wf.RunAsync(), new WorkflowOptions(id, taskQueue));

        Assert.Equal(3, await handle.GetResultAsync());

        var attempts = Attempts[id].ToArray();
        Assert.Equal([1, 2, 3], attempts.Select(a => a.Attempt));
        // Attempt n+1 is scheduled no sooner than initial x coefficient^(n-1) after attempt n failed: 0.5 s, then 1.5 s.
        var tolerance = TimeSpan.FromMilliseconds(50);
        Assert.True(attempts[1].CurrentAttemptScheduledTime - attempts[0].FailedAt >= TimeSpan.FromMilliseconds(500) - tolerance,
            $"first backoff was {attempts[1].CurrentAttemptScheduledTime - attempts[0].FailedAt}");
        Assert.True(attempts[2].CurrentAttemptScheduledTime - attempts[1].FailedAt >= TimeSpan.FromMilliseconds(1500) - tolerance,
            $"second backoff was {attempts[2].CurrentAttemptScheduledTime - attempts[1].FailedAt}");

        var history = await handle.FetchHistoryAsync();
        Assert.Equal(
            [
                .. FirstWorkflowTask,
                EventType.ActivityTaskScheduled, EventType.ActivityTaskStarted, EventType.ActivityTaskCompleted,
                .. CompletingWorkflowTask,
            ],
            EventTypes(history));
        var scheduled = Single(history, EventType.ActivityTaskScheduled);
        var started = Single(history, EventType.ActivityTaskStarted);
        var completed = Single(history, EventType.ActivityTaskCompleted);
        Assert.Equal(5, scheduled.ActivityTaskScheduledEventAttributes.RetryPolicy.MaximumAttempts);
        Assert.Equal(3, started.ActivityTaskStartedEventAttributes.Attempt);
        Assert.Equal(scheduled.EventId, started.ActivityTaskStartedEventAttributes.ScheduledEventId);
        var lastFailure = started.ActivityTaskStartedEventAttributes.LastFailure;
        Assert.NotNull(lastFailure);
        Assert.Equal("attempt 2 failed", lastFailure.Message);
        Assert.Equal("Transient", lastFailure.ApplicationFailureInfo.Type);
        Assert.Equal(scheduled.EventId, completed.ActivityTaskCompletedEventAttributes.ScheduledEventId);
        Assert.Equal(started.EventId, completed.ActivityTaskCompletedEventAttributes.StartedEventId);
        await Replay.AssertDeterministicAsync(history, typeof(RetryWorkflow));
    }

    [Fact]
    public async Task RetryingActivity_MaximumAttemptsReached_FailsWithRetryStateAndApplicationCause()
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<MaxAttemptsWorkflow>().AddActivity(Activities.AlwaysFail));
        await using var _ = worker;
        var id = $"wf-{Guid.NewGuid()}";
        var handle = await client.StartWorkflowAsync((MaxAttemptsWorkflow wf) => wf.RunAsync(), new WorkflowOptions(id, taskQueue));

        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        var activityFailure = Assert.IsType<ActivityFailureException>(failed.InnerException);
        Assert.Equal(RetryState.MaximumAttemptsReached, activityFailure.RetryState);
        var cause = Assert.IsType<ApplicationFailureException>(activityFailure.InnerException);
        Assert.Equal("Transient", cause.ErrorType);
        Assert.Equal("attempt 2 failed", cause.Message);
        Assert.Equal(2, AttemptCount(id));

        var history = await handle.FetchHistoryAsync();
        var started = Single(history, EventType.ActivityTaskStarted);
        Assert.Equal(2, started.ActivityTaskStartedEventAttributes.Attempt);
        Assert.Equal("attempt 1 failed", started.ActivityTaskStartedEventAttributes.LastFailure.Message);
        var failedEvent = Single(history, EventType.ActivityTaskFailed);
        Assert.Equal(RetryState.MaximumAttemptsReached, failedEvent.ActivityTaskFailedEventAttributes.RetryState);
        Assert.Equal(started.EventId, failedEvent.ActivityTaskFailedEventAttributes.StartedEventId);
        Assert.Equal(EventType.WorkflowExecutionFailed, history.Events.Last().EventType);
        await Replay.AssertDeterministicAsync(history, typeof(MaxAttemptsWorkflow));
    }

    [Theory]
    [InlineData("Fatal", false)]
    [InlineData("Other", true)]
    public async Task RetryingActivity_NonRetryableFailure_FailsAfterOneAttemptWithNonRetryableState(string errorType, bool nonRetryable)
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<NonRetryableWorkflow>().AddActivity(Activities.FailWithType));
        await using var _ = worker;
        var id = $"wf-{Guid.NewGuid()}";
        var handle = await client.StartWorkflowAsync((NonRetryableWorkflow wf) => wf.RunAsync(errorType, nonRetryable), new WorkflowOptions(id, taskQueue));

        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        var activityFailure = Assert.IsType<ActivityFailureException>(failed.InnerException);
        Assert.Equal(RetryState.NonRetryableFailure, activityFailure.RetryState);
        var cause = Assert.IsType<ApplicationFailureException>(activityFailure.InnerException);
        Assert.Equal(errorType, cause.ErrorType);
        Assert.Equal(nonRetryable, cause.NonRetryable);
        Assert.Equal(1, AttemptCount(id));

        var history = await handle.FetchHistoryAsync();
        Assert.Equal(1, Single(history, EventType.ActivityTaskStarted).ActivityTaskStartedEventAttributes.Attempt);
        Assert.Equal(RetryState.NonRetryableFailure, Single(history, EventType.ActivityTaskFailed).ActivityTaskFailedEventAttributes.RetryState);
        await Replay.AssertDeterministicAsync(history, typeof(NonRetryableWorkflow));
    }

    [Fact]
    public async Task StartToCloseTimeout_NoRetriesLeft_TimesOutAndRejectsLaterCancel()
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<StartToCloseWorkflow>().AddActivity(Activities.StallAsync));
        await using var _ = worker;
        var id = $"wf-{Guid.NewGuid()}";
        var handle = await client.StartWorkflowAsync((StartToCloseWorkflow wf) => wf.RunAsync(), new WorkflowOptions(id, taskQueue));

        // The server times the attempt out and tells the workflow.
        await WaitForEventAsync(handle, EventType.ActivityTaskTimedOut, TimeSpan.FromSeconds(60), "ActivityTaskTimedOut");
        // Core gives up on the attempt 5 s after the server should have, cancels it and reports RespondActivityTaskCanceled.
        await Eventually.TrueAsync(() => SawCancellation.ContainsKey(id), TimeSpan.FromSeconds(60), "worker-side cancellation of the stalled attempt");
        // That report (sent here again with the attempt's own token) is refused: the attempt is over and no cancel was requested.
        var rejected = await Assert.ThrowsAsync<RpcException>(() => client.WorkflowService.RespondActivityTaskCanceledAsync(
            new RespondActivityTaskCanceledRequest { Namespace = server.Namespace, TaskToken = ByteString.CopyFrom(TaskTokens[id]), Identity = "test" }));
        Assert.True(rejected.Code is RpcException.StatusCode.NotFound or RpcException.StatusCode.InvalidArgument, $"unexpected {rejected.Code}");

        await handle.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal($"{RetryState.MaximumAttemptsReached}/{TimeoutType.StartToClose}", await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        Assert.Equal(
            [
                .. FirstWorkflowTask,
                EventType.ActivityTaskScheduled, EventType.ActivityTaskStarted, EventType.ActivityTaskTimedOut,
                .. WorkflowTask,
                EventType.WorkflowExecutionSignaled, .. WorkflowTask,
                EventType.WorkflowExecutionCompleted,
            ],
            EventTypes(history));
        var started = Single(history, EventType.ActivityTaskStarted);
        var timedOut = Single(history, EventType.ActivityTaskTimedOut).ActivityTaskTimedOutEventAttributes;
        Assert.Equal(TimeoutType.StartToClose, timedOut.Failure.TimeoutFailureInfo.TimeoutType);
        Assert.Equal(RetryState.MaximumAttemptsReached, timedOut.RetryState);
        Assert.Equal(started.EventId, timedOut.StartedEventId);
        Assert.Equal(1, AttemptCount(id));
        await Replay.AssertDeterministicAsync(history, typeof(StartToCloseWorkflow));
    }

    [Fact]
    public async Task HeartbeatTimeout_AfterDetails_RetriesWithLastHeartbeatDetails()
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<HeartbeatWorkflow>().AddActivity(Activities.HeartbeatThenStallAsync));
        await using var _ = worker;
        var id = $"wf-{Guid.NewGuid()}";
        var handle = await client.StartWorkflowAsync((HeartbeatWorkflow wf) => wf.RunAsync(3), new WorkflowOptions(id, taskQueue));

        Assert.Equal("progress-1", await handle.GetResultAsync());
        Assert.Equal([1, 2], Attempts[id].Select(a => a.Attempt));

        var history = await handle.FetchHistoryAsync();
        var started = Single(history, EventType.ActivityTaskStarted).ActivityTaskStartedEventAttributes;
        Assert.Equal(2, started.Attempt);
        Assert.Equal(TimeoutType.Heartbeat, started.LastFailure.TimeoutFailureInfo.TimeoutType);
        Assert.Equal("progress-1", Decode<string>(started.LastFailure.TimeoutFailureInfo.LastHeartbeatDetails.Payloads_.Single()));
        Single(history, EventType.ActivityTaskCompleted);
        await Replay.AssertDeterministicAsync(history, typeof(HeartbeatWorkflow));
    }

    [Fact]
    public async Task HeartbeatTimeout_NoRetriesLeft_FailsWithHeartbeatTimeoutCarryingDetails()
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<HeartbeatWorkflow>().AddActivity(Activities.HeartbeatThenStallAsync));
        await using var _ = worker;
        var id = $"wf-{Guid.NewGuid()}";
        var handle = await client.StartWorkflowAsync((HeartbeatWorkflow wf) => wf.RunAsync(1), new WorkflowOptions(id, taskQueue));

        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        var activityFailure = Assert.IsType<ActivityFailureException>(failed.InnerException);
        Assert.Equal(RetryState.MaximumAttemptsReached, activityFailure.RetryState);
        var timeout = Assert.IsType<TimeoutFailureException>(activityFailure.InnerException);
        Assert.Equal(TimeoutType.Heartbeat, timeout.TimeoutType);
        Assert.Equal("progress-1", timeout.LastHeartbeatDetails?.ElementAt<string>(0));

        var history = await handle.FetchHistoryAsync();
        var timedOut = Single(history, EventType.ActivityTaskTimedOut).ActivityTaskTimedOutEventAttributes;
        Assert.Equal(TimeoutType.Heartbeat, timedOut.Failure.TimeoutFailureInfo.TimeoutType);
        Assert.Equal("progress-1", Decode<string>(timedOut.Failure.TimeoutFailureInfo.LastHeartbeatDetails.Payloads_.Single()));
        Assert.Equal(Single(history, EventType.ActivityTaskStarted).EventId, timedOut.StartedEventId);
        await Replay.AssertDeterministicAsync(history, typeof(HeartbeatWorkflow));
    }

    [Fact]
    public async Task ScheduleToCloseTimeout_AcrossRetries_EndsActivityWithoutFurtherAttempts()
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<ScheduleToCloseWorkflow>().AddActivity(Activities.FailTwiceThenStallAsync));
        await using var _ = worker;
        var id = $"wf-{Guid.NewGuid()}";
        var handle = await client.StartWorkflowAsync((ScheduleToCloseWorkflow wf) => wf.RunAsync(), new WorkflowOptions(id, taskQueue));

        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        var activityFailure = Assert.IsType<ActivityFailureException>(failed.InnerException);
        Assert.Equal(RetryState.NonRetryableFailure, activityFailure.RetryState);
        var timeout = Assert.IsType<TimeoutFailureException>(activityFailure.InnerException);
        Assert.Equal(TimeoutType.ScheduleToClose, timeout.TimeoutType);
        // The timeout's cause is the last failed attempt.
        var lastFailure = Assert.IsType<ApplicationFailureException>(timeout.InnerException);
        Assert.Equal("attempt 2 failed", lastFailure.Message);
        Assert.Equal([1, 2, 3], Attempts[id].Select(a => a.Attempt));

        var history = await handle.FetchHistoryAsync();
        var started = Single(history, EventType.ActivityTaskStarted);
        Assert.Equal(3, started.ActivityTaskStartedEventAttributes.Attempt);
        var timedOut = Single(history, EventType.ActivityTaskTimedOut).ActivityTaskTimedOutEventAttributes;
        Assert.Equal(TimeoutType.ScheduleToClose, timedOut.Failure.TimeoutFailureInfo.TimeoutType);
        Assert.Equal(started.EventId, timedOut.StartedEventId);
        await Replay.AssertDeterministicAsync(history, typeof(ScheduleToCloseWorkflow));
    }

    [Fact]
    public async Task ScheduleToStartTimeout_NoActivityWorker_TimesOutWithoutStartedEvent()
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<ScheduleToStartWorkflow>());
        await using var _ = worker;
        var handle = await client.StartWorkflowAsync((ScheduleToStartWorkflow wf) => wf.RunAsync($"unpolled-{Guid.NewGuid()}"),
            new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));

        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        var activityFailure = Assert.IsType<ActivityFailureException>(failed.InnerException);
        var timeout = Assert.IsType<TimeoutFailureException>(activityFailure.InnerException);
        Assert.Equal(TimeoutType.ScheduleToStart, timeout.TimeoutType);

        var history = await handle.FetchHistoryAsync();
        Assert.Equal(
            [
                .. FirstWorkflowTask,
                EventType.ActivityTaskScheduled, EventType.ActivityTaskTimedOut,
                .. WorkflowTask, EventType.WorkflowExecutionFailed,
            ],
            EventTypes(history));
        var timedOut = Single(history, EventType.ActivityTaskTimedOut).ActivityTaskTimedOutEventAttributes;
        Assert.Equal(5, timedOut.ScheduledEventId);
        Assert.Equal(0, timedOut.StartedEventId);
        Assert.Equal(TimeoutType.ScheduleToStart, timedOut.Failure.TimeoutFailureInfo.TimeoutType);
        await Replay.AssertDeterministicAsync(history, typeof(ScheduleToStartWorkflow));
    }
}
