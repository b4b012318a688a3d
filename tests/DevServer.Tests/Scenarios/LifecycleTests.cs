using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;
using static AgentOrchestrator.DevServer.Tests.ScenarioHelpers;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>
/// Spec 8.1 scenarios 20-22 and 25: continue-as-new chains, cancel/terminate, id reuse and conflict
/// policies, workflow-task retry after a code fix and result waits longer than the long-poll hold.
/// </summary>
public sealed class LifecycleTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class ContinuingWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(int iteration)
        {
            if (iteration < 3)
            {
                throw Workflow.CreateContinueAsNewException((ContinuingWorkflow wf) => wf.RunAsync(iteration + 1));
            }
            return Task.FromResult($"finished after {iteration} continues");
        }
    }

    [Workflow]
    public sealed class ContinueThenWaitWorkflow
    {
        [WorkflowRun]
        public async Task<string> RunAsync(int iteration)
        {
            if (iteration == 0)
            {
                throw Workflow.CreateContinueAsNewException((ContinueThenWaitWorkflow wf) => wf.RunAsync(1));
            }
            await Workflow.WaitConditionAsync(() => false);
            return "unreachable";
        }
    }

    [Workflow]
    public sealed class WaitingWorkflow
    {
        private bool _finish;

        [WorkflowRun]
        public async Task<string> RunAsync(bool fail)
        {
            await Workflow.WaitConditionAsync(() => _finish);
            if (fail)
            {
                throw new ApplicationFailureException("failed on purpose", nonRetryable: true);
            }
            return "finished";
        }

        [WorkflowSignal]
        public Task FinishAsync()
        {
            _finish = true;
            return Task.CompletedTask;
        }
    }

    [Workflow]
    public sealed class SleepingWorkflow
    {
        [WorkflowRun]
        public async Task<string> RunAsync(int seconds)
        {
            await Workflow.DelayAsync(TimeSpan.FromSeconds(seconds));
            return $"slept {seconds}s";
        }
    }

    [Workflow]
    public sealed class RetriedWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync() => Workflow.Info.Attempt < 3
            ? throw new ApplicationFailureException($"attempt {Workflow.Info.Attempt} fails")
            : Task.FromResult($"succeeded on attempt {Workflow.Info.Attempt}");
    }

    /// <summary>First deployment of the workflow: throws a non-failure exception, which fails the workflow task.</summary>
    [Workflow("RetriedTaskWorkflow")]
    public sealed class BrokenWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(string input) => throw new InvalidOperationException($"bug while handling {input}");
    }

    /// <summary>The same workflow type after the bug fix.</summary>
    [Workflow("RetriedTaskWorkflow")]
    public sealed class FixedWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(string input) => Task.FromResult($"fixed {input}");
    }

    [Fact]
    public async Task GetResultAsync_ContinuedAsNewThreeTimes_ReturnsLastRunResultAndRunsShareFirstExecutionRunId()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<ContinuingWorkflow>());

        var handle = await client.StartWorkflowAsync((ContinuingWorkflow wf) => wf.RunAsync(0), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        var firstRunId = handle.ResultRunId!;
        Assert.Equal("finished after 3 continues", await handle.GetResultAsync());

        // Walk the chain from the first run through each WorkflowExecutionContinuedAsNew.
        var runId = firstRunId;
        string? previousRunId = null;
        for (var iteration = 0; iteration <= 3; iteration++)
        {
            var history = await client.GetWorkflowHandle(handle.Id, runId).FetchHistoryAsync();
            var started = history.Events.First().WorkflowExecutionStartedEventAttributes;
            Assert.Equal(firstRunId, started.FirstExecutionRunId);
            Assert.Equal(previousRunId ?? string.Empty, started.ContinuedExecutionRunId);
            Assert.Equal(previousRunId is null ? ContinueAsNewInitiator.Unspecified : ContinueAsNewInitiator.Workflow, started.Initiator);
            var close = history.Events.Last();
            await Replay.AssertDeterministicAsync(history, typeof(ContinuingWorkflow));
            if (iteration < 3)
            {
                Assert.Equal(EventType.WorkflowExecutionContinuedAsNew, close.EventType);
                previousRunId = runId;
                runId = close.WorkflowExecutionContinuedAsNewEventAttributes.NewExecutionRunId;
                Assert.False(string.IsNullOrEmpty(runId));
            }
            else
            {
                Assert.Equal(EventType.WorkflowExecutionCompleted, close.EventType);
            }
        }

        // The workflow id now resolves to the last run, and describing the first run shows it continued.
        var latest = await client.GetWorkflowHandle(handle.Id).DescribeAsync();
        Assert.Equal(runId, latest.RunId);
        Assert.Equal(WorkflowExecutionStatus.Completed, latest.Status);
        Assert.Equal(WorkflowExecutionStatus.ContinuedAsNew, (await client.GetWorkflowHandle(handle.Id, firstRunId).DescribeAsync()).Status);
    }

    [Fact]
    public async Task CancelAsync_RunningWorkflow_GetResultThrowsWorkflowFailedWithCanceledCause()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = StartWaitingWorker(client, taskQueue);
        var handle = await client.StartWorkflowAsync((WaitingWorkflow wf) => wf.RunAsync(false), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        await WaitForFirstTaskAsync(handle);

        await handle.CancelAsync();

        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        Assert.IsType<CanceledFailureException>(error.InnerException);
        var history = await handle.FetchHistoryAsync();
        Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionCancelRequested);
        Assert.Equal(EventType.WorkflowExecutionCanceled, history.Events.Last().EventType);
        Assert.Equal(WorkflowExecutionStatus.Canceled, (await handle.DescribeAsync()).Status);
        await Replay.AssertDeterministicAsync(history, typeof(WaitingWorkflow));
    }

    [Fact]
    public async Task CancelAsync_FirstExecutionRunIdAfterContinueAsNew_CancelsCurrentRunOfChain()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<ContinueThenWaitWorkflow>());
        var handle = await client.StartWorkflowAsync((ContinueThenWaitWorkflow wf) => wf.RunAsync(0), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        var firstRunId = handle.ResultRunId!;
        var current = client.GetWorkflowHandle(handle.Id);
        await Eventually.TrueAsync(async () =>
        {
            var description = await current.DescribeAsync();
            return description.RunId != firstRunId && description.HistoryLength >= 4;
        }, TimeSpan.FromSeconds(30), "the workflow never continued as new");

        // A first-execution run id from another chain matches nothing.
        var mismatch = await Assert.ThrowsAsync<RpcException>(
            () => client.GetWorkflowHandle(handle.Id, firstExecutionRunId: Guid.NewGuid().ToString()).TerminateAsync("wrong chain"));
        Assert.Equal(RpcException.StatusCode.NotFound, mismatch.Code);

        await client.GetWorkflowHandle(handle.Id, firstExecutionRunId: firstRunId).CancelAsync();

        // The handle of the first run follows the chain to the cancelled second run.
        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        Assert.IsType<CanceledFailureException>(error.InnerException);
        var secondRun = await current.FetchHistoryAsync();
        Assert.Equal(firstRunId, secondRun.Events.First().WorkflowExecutionStartedEventAttributes.FirstExecutionRunId);
        Assert.Equal(EventType.WorkflowExecutionCanceled, secondRun.Events.Last().EventType);
        await Replay.AssertDeterministicAsync(secondRun, typeof(ContinueThenWaitWorkflow));
        await Replay.AssertDeterministicAsync(await client.GetWorkflowHandle(handle.Id, firstRunId).FetchHistoryAsync(), typeof(ContinueThenWaitWorkflow));
    }

    [Fact]
    public async Task TerminateAsync_RunningWorkflow_GetResultThrowsTerminatedFailureWithReason()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = StartWaitingWorker(client, taskQueue);
        var handle = await client.StartWorkflowAsync((WaitingWorkflow wf) => wf.RunAsync(false), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        await WaitForFirstTaskAsync(handle);

        await handle.TerminateAsync("stopped by the test");

        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        var terminated = Assert.IsType<TerminatedFailureException>(error.InnerException);
        Assert.Equal("stopped by the test", terminated.Message);
        var history = await handle.FetchHistoryAsync();
        var close = history.Events.Last();
        Assert.Equal(EventType.WorkflowExecutionTerminated, close.EventType);
        Assert.Equal("stopped by the test", close.WorkflowExecutionTerminatedEventAttributes.Reason);
        Assert.Equal(WorkflowExecutionStatus.Terminated, (await handle.DescribeAsync()).Status);
        await Replay.AssertDeterministicAsync(history, typeof(WaitingWorkflow));
    }

    [Fact]
    public async Task GetResultAsync_WorkflowRetryPolicy_FollowsRetriedRunsToResult()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<RetriedWorkflow>());

        var handle = await client.StartWorkflowAsync((RetriedWorkflow wf) => wf.RunAsync(), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue)
        {
            RetryPolicy = new() { InitialInterval = TimeSpan.FromMilliseconds(500), BackoffCoefficient = 1, MaximumAttempts = 5 },
        });
        Assert.Equal("succeeded on attempt 3", await handle.GetResultAsync());

        var runId = handle.ResultRunId!;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var history = await client.GetWorkflowHandle(handle.Id, runId).FetchHistoryAsync();
            var started = history.Events.First().WorkflowExecutionStartedEventAttributes;
            Assert.Equal(attempt, started.Attempt);
            Assert.Equal(handle.ResultRunId, started.FirstExecutionRunId);
            var close = history.Events.Last();
            if (attempt < 3)
            {
                Assert.Equal(EventType.WorkflowExecutionFailed, close.EventType);
                Assert.Equal(RetryState.InProgress, close.WorkflowExecutionFailedEventAttributes.RetryState);
                runId = close.WorkflowExecutionFailedEventAttributes.NewExecutionRunId;
            }
            else
            {
                Assert.Equal(EventType.WorkflowExecutionCompleted, close.EventType);
                Assert.Equal(ContinueAsNewInitiator.Retry, started.Initiator);
                Assert.Equal("attempt 2 fails", started.ContinuedFailure.Message);
            }
            await Replay.AssertDeterministicAsync(history, typeof(RetriedWorkflow));
        }
    }

    [Fact]
    public async Task GetResultAsync_RunTimeoutExpires_ThrowsWorkflowFailedWithTimeoutCause()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = StartWaitingWorker(client, taskQueue);
        var handle = await client.StartWorkflowAsync((WaitingWorkflow wf) => wf.RunAsync(false),
            new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue) { RunTimeout = TimeSpan.FromSeconds(2) });

        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        Assert.IsType<TimeoutFailureException>(error.InnerException);
        var history = await handle.FetchHistoryAsync();
        Assert.Equal(EventType.WorkflowExecutionTimedOut, history.Events.Last().EventType);
        Assert.Equal(WorkflowExecutionStatus.TimedOut, (await handle.DescribeAsync()).Status);
        await Replay.AssertDeterministicAsync(history, typeof(WaitingWorkflow));
    }

    [Fact]
    public async Task StartWorkflowAsync_IdRunning_ThrowsWorkflowAlreadyStartedWithRunningRunId()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var workflowId = $"wf-{Guid.NewGuid()}";
        await using var worker = StartWaitingWorker(client, taskQueue);
        var running = await client.StartWorkflowAsync((WaitingWorkflow wf) => wf.RunAsync(false), new WorkflowOptions(workflowId, taskQueue));

        var error = await Assert.ThrowsAsync<WorkflowAlreadyStartedException>(
            () => client.StartWorkflowAsync((WaitingWorkflow wf) => wf.RunAsync(false), new WorkflowOptions(workflowId, taskQueue)));
        Assert.Equal(workflowId, error.WorkflowId);
        Assert.Equal(running.ResultRunId, error.RunId);
        Assert.Equal("WaitingWorkflow", error.WorkflowType);

        await running.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal("finished", await running.GetResultAsync());
        var history = await running.FetchHistoryAsync();
        Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionStarted);
        await Replay.AssertDeterministicAsync(history, typeof(WaitingWorkflow));
    }

    [Fact]
    public async Task StartWorkflowAsync_RejectDuplicateAfterCompletion_ThrowsWorkflowAlreadyStarted()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var workflowId = $"wf-{Guid.NewGuid()}";
        await using var worker = StartWaitingWorker(client, taskQueue);
        var first = await client.StartWorkflowAsync((WaitingWorkflow wf) => wf.RunAsync(false), new WorkflowOptions(workflowId, taskQueue));
        await first.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal("finished", await first.GetResultAsync());

        var error = await Assert.ThrowsAsync<WorkflowAlreadyStartedException>(() => client.StartWorkflowAsync(
            (WaitingWorkflow wf) => wf.RunAsync(false), new WorkflowOptions(workflowId, taskQueue) { IdReusePolicy = WorkflowIdReusePolicy.RejectDuplicate }));
        Assert.Equal(workflowId, error.WorkflowId);

        // The completed run is still the current one.
        Assert.Equal(first.ResultRunId, (await client.GetWorkflowHandle(workflowId).DescribeAsync()).RunId);
        await Replay.AssertDeterministicAsync(await first.FetchHistoryAsync(), typeof(WaitingWorkflow));
    }

    [Fact]
    public async Task StartWorkflowAsync_AllowDuplicateFailedOnly_RejectsAfterSuccessAndAllowsAfterFailure()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var succeededId = $"wf-ok-{Guid.NewGuid()}";
        var failedId = $"wf-failed-{Guid.NewGuid()}";
        await using var worker = StartWaitingWorker(client, taskQueue);
        WorkflowOptions FailedOnly(string id) => new(id, taskQueue) { IdReusePolicy = WorkflowIdReusePolicy.AllowDuplicateFailedOnly };

        var succeeded = await client.StartWorkflowAsync((WaitingWorkflow wf) => wf.RunAsync(false), new WorkflowOptions(succeededId, taskQueue));
        await succeeded.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal("finished", await succeeded.GetResultAsync());
        await Assert.ThrowsAsync<WorkflowAlreadyStartedException>(
            () => client.StartWorkflowAsync((WaitingWorkflow wf) => wf.RunAsync(false), FailedOnly(succeededId)));

        var failed = await client.StartWorkflowAsync((WaitingWorkflow wf) => wf.RunAsync(true), new WorkflowOptions(failedId, taskQueue));
        await failed.SignalAsync(wf => wf.FinishAsync());
        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => failed.GetResultAsync());
        Assert.Equal("failed on purpose", Assert.IsType<ApplicationFailureException>(failure.InnerException).Message);

        var retried = await client.StartWorkflowAsync((WaitingWorkflow wf) => wf.RunAsync(false), FailedOnly(failedId));
        Assert.NotEqual(failed.ResultRunId, retried.ResultRunId);
        await retried.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal("finished", await retried.GetResultAsync());

        foreach (var handle in new[] { succeeded, failed, retried })
        {
            await Replay.AssertDeterministicAsync(await handle.FetchHistoryAsync(), typeof(WaitingWorkflow));
        }
    }

    [Fact]
    public async Task GetResultAsync_WorkflowTaskFailsUntilFixedWorkerRuns_RetriesTaskAndCompletes()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var handle = await client.StartWorkflowAsync((FixedWorkflow wf) => wf.RunAsync("order-7"),
            new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue) { TaskTimeout = TimeSpan.FromSeconds(2) });
        var result = handle.GetResultAsync();

        await using (WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<BrokenWorkflow>()))
        {
            // Attempt 1 is reported as failed; later attempts are not reported and must time out on the server.
            await WaitForEventAsync(handle, EventType.WorkflowTaskTimedOut, TimeSpan.FromSeconds(60), "the second workflow task attempt never timed out");
        }
        Assert.False(result.IsCompleted);

        await using var fixedWorker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<FixedWorkflow>());
        Assert.Equal("fixed order-7", await result);

        var history = await handle.FetchHistoryAsync();
        var failed = Assert.Single(history.Events, e => e.EventType == EventType.WorkflowTaskFailed);
        Assert.Contains("bug while handling order-7", failed.WorkflowTaskFailedEventAttributes.Failure.Message, StringComparison.Ordinal);
        var timedOut = history.Events.Where(e => e.EventType == EventType.WorkflowTaskTimedOut).ToList();
        Assert.NotEmpty(timedOut);
        Assert.All(timedOut, e => Assert.Equal(TimeoutType.StartToClose, e.WorkflowTaskTimedOutEventAttributes.TimeoutType));
        Assert.True(timedOut[0].EventId > failed.EventId);
        var lastScheduled = history.Events.Last(e => e.EventType == EventType.WorkflowTaskScheduled);
        Assert.True(lastScheduled.WorkflowTaskScheduledEventAttributes.Attempt >= 3);
        Assert.Equal(EventType.WorkflowExecutionCompleted, history.Events.Last().EventType);
        await Replay.AssertDeterministicAsync(history, typeof(FixedWorkflow));
    }

    [Fact]
    public async Task GetResultAsync_WaitLongerThanServerLongPollHold_KeepsPollingUntilResult()
    {
        // With a 2 s hold the 8 s wait spans several empty history long-poll rounds.
        await using var host = await StartShortLongPollServerAsync();
        var client = await ConnectAsync(host);
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<SleepingWorkflow>());

        var handle = await client.StartWorkflowAsync((SleepingWorkflow wf) => wf.RunAsync(8), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        Assert.Equal("slept 8s", await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        var timer = Assert.Single(history.Events, e => e.EventType == EventType.TimerStarted);
        Assert.Equal(TimeSpan.FromSeconds(8), timer.TimerStartedEventAttributes.StartToFireTimeout.ToTimeSpan());
        Assert.Single(history.Events, e => e.EventType == EventType.TimerFired);
        await Replay.AssertDeterministicAsync(history, typeof(SleepingWorkflow));
    }

    private static WorkerScope StartWaitingWorker(TemporalClient client, string taskQueue) =>
        WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<WaitingWorkflow>());
}
