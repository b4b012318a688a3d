using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;
using static AgentOrchestrator.DevServer.Tests.ScenarioHelpers;
using ApiParentClosePolicy = Temporalio.Api.Enums.V1.ParentClosePolicy;
using ParentClosePolicy = Temporalio.Workflows.ParentClosePolicy;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>Spec 8.1 scenarios 18-19: child workflow outcomes and parent-close policies.</summary>
public sealed class ChildWorkflowTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class ChildWorkflow
    {
        [WorkflowRun]
        public async Task<string> RunAsync(string mode)
        {
            switch (mode)
            {
                case "fail":
                    throw new ApplicationFailureException("child went wrong", errorType: "ChildError", nonRetryable: true);
                case "wait":
                    await Workflow.WaitConditionAsync(() => false);
                    return "unreachable";
                default:
                    return $"child says {mode}";
            }
        }
    }

    [Workflow]
    public sealed class ParentWorkflow
    {
        [WorkflowRun]
        public async Task<string> RunAsync(string scenario, string childId)
        {
            switch (scenario)
            {
                case "complete":
                    return await Workflow.ExecuteChildWorkflowAsync((ChildWorkflow wf) => wf.RunAsync("hi"), new() { Id = childId });
                case "fail":
                    try
                    {
                        await Workflow.ExecuteChildWorkflowAsync((ChildWorkflow wf) => wf.RunAsync("fail"), new() { Id = childId });
                        return "no failure";
                    }
                    catch (ChildWorkflowFailureException e) when (e.InnerException is ApplicationFailureException app)
                    {
                        return $"child failed: {e.WorkflowId} {app.ErrorType} {app.Message}";
                    }
                case "already-started":
                    try
                    {
                        await Workflow.StartChildWorkflowAsync((ChildWorkflow wf) => wf.RunAsync("wait"), new() { Id = childId });
                        return "started";
                    }
                    catch (WorkflowAlreadyStartedException e)
                    {
                        return $"already started: {e.WorkflowId} {e.WorkflowType}";
                    }
                case "cancel":
                    using (var cancel = CancellationTokenSource.CreateLinkedTokenSource(Workflow.CancellationToken))
                    {
                        var child = await Workflow.StartChildWorkflowAsync((ChildWorkflow wf) => wf.RunAsync("wait"),
                            new() { Id = childId, CancellationToken = cancel.Token, CancellationType = ChildWorkflowCancellationType.WaitCancellationCompleted });
                        // Cancel() runs callbacks inline; CancelAsync would hop to the thread pool inside workflow code.
                        cancel.Cancel();
                        try
                        {
                            await child.GetResultAsync();
                            return "not cancelled";
                        }
                        catch (ChildWorkflowFailureException e) when (e.InnerException is CanceledFailureException)
                        {
                            return $"child cancelled: {e.WorkflowId}";
                        }
                    }
                case "terminated":
                    try
                    {
                        await Workflow.ExecuteChildWorkflowAsync((ChildWorkflow wf) => wf.RunAsync("wait"), new() { Id = childId });
                        return "not terminated";
                    }
                    catch (ChildWorkflowFailureException e) when (e.InnerException is TerminatedFailureException)
                    {
                        return $"child terminated: {e.WorkflowId}";
                    }
                default:
                    throw new ApplicationFailureException($"unknown scenario {scenario}", nonRetryable: true);
            }
        }
    }

    [Workflow]
    public sealed class ContinuingChildWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(int iteration) => iteration < 2
            ? throw Workflow.CreateContinueAsNewException((ContinuingChildWorkflow wf) => wf.RunAsync(iteration + 1))
            : Task.FromResult($"continued {iteration} times");
    }

    [Workflow]
    public sealed class RetriedChildWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync() => Workflow.Info.Attempt < 2
            ? throw new ApplicationFailureException($"attempt {Workflow.Info.Attempt} fails")
            : Task.FromResult($"succeeded on attempt {Workflow.Info.Attempt}");
    }

    [Workflow]
    public sealed class ChainParentWorkflow
    {
        [WorkflowRun]
        public async Task<string> RunAsync(string continuingChildId, string retriedChildId)
        {
            var continued = await Workflow.ExecuteChildWorkflowAsync((ContinuingChildWorkflow wf) => wf.RunAsync(0), new() { Id = continuingChildId });
            var retried = await Workflow.ExecuteChildWorkflowAsync((RetriedChildWorkflow wf) => wf.RunAsync(),
                new() { Id = retriedChildId, RetryPolicy = new() { InitialInterval = TimeSpan.FromMilliseconds(500), MaximumAttempts = 3 } });
            return $"{continued} | {retried}";
        }
    }

    [Workflow]
    public sealed class ContinuingParentWorkflow
    {
        [WorkflowRun]
        public async Task<string> RunAsync(string childId, bool continued)
        {
            if (continued)
            {
                return "second run";
            }
            await Workflow.StartChildWorkflowAsync((ChildWorkflow wf) => wf.RunAsync("wait"),
                new() { Id = childId, ParentClosePolicy = ParentClosePolicy.Terminate });
            throw Workflow.CreateContinueAsNewException((ContinuingParentWorkflow wf) => wf.RunAsync(childId, true));
        }
    }

    [Workflow]
    public sealed class ClosingParentWorkflow
    {
        private bool _finish;

        [WorkflowRun]
        public async Task<string> RunAsync(string terminateChildId, string abandonChildId)
        {
            await Workflow.StartChildWorkflowAsync((ChildWorkflow wf) => wf.RunAsync("wait"),
                new() { Id = terminateChildId, ParentClosePolicy = ParentClosePolicy.Terminate });
            await Workflow.StartChildWorkflowAsync((ChildWorkflow wf) => wf.RunAsync("wait"),
                new() { Id = abandonChildId, ParentClosePolicy = ParentClosePolicy.Abandon });
            await Workflow.StartChildWorkflowAsync((ChildWorkflow wf) => wf.RunAsync("wait"),
                new() { Id = $"{abandonChildId}-cancel", ParentClosePolicy = ParentClosePolicy.RequestCancel });
            await Workflow.WaitConditionAsync(() => _finish);
            return "parent done";
        }

        [WorkflowSignal]
        public Task FinishAsync()
        {
            _finish = true;
            return Task.CompletedTask;
        }
    }

    private static TemporalWorkerOptions WorkerOptions(string taskQueue) => new TemporalWorkerOptions(taskQueue)
        .AddWorkflow<ChildWorkflow>()
        .AddWorkflow<ParentWorkflow>()
        .AddWorkflow<ClosingParentWorkflow>()
        .AddWorkflow<ContinuingChildWorkflow>()
        .AddWorkflow<RetriedChildWorkflow>()
        .AddWorkflow<ChainParentWorkflow>()
        .AddWorkflow<ContinuingParentWorkflow>();

    [Fact]
    public async Task ExecuteChildWorkflowAsync_ChildCompletes_ParentGetsResultWithLinkedEvents()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var childId = $"child-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, WorkerOptions(taskQueue));

        var parent = await StartParentAsync(client, taskQueue, "complete", childId);
        Assert.Equal("child says hi", await parent.GetResultAsync());

        var history = await parent.FetchHistoryAsync();
        var initiated = Assert.Single(history.Events, e => e.EventType == EventType.StartChildWorkflowExecutionInitiated);
        var started = Assert.Single(history.Events, e => e.EventType == EventType.ChildWorkflowExecutionStarted);
        var completed = Assert.Single(history.Events, e => e.EventType == EventType.ChildWorkflowExecutionCompleted);
        Assert.Equal(childId, initiated.StartChildWorkflowExecutionInitiatedEventAttributes.WorkflowId);
        Assert.Equal(ApiParentClosePolicy.Terminate, initiated.StartChildWorkflowExecutionInitiatedEventAttributes.ParentClosePolicy);
        Assert.Equal(initiated.EventId, started.ChildWorkflowExecutionStartedEventAttributes.InitiatedEventId);
        Assert.Equal(initiated.EventId, completed.ChildWorkflowExecutionCompletedEventAttributes.InitiatedEventId);
        Assert.Equal(started.EventId, completed.ChildWorkflowExecutionCompletedEventAttributes.StartedEventId);
        var childRunId = started.ChildWorkflowExecutionStartedEventAttributes.WorkflowExecution.RunId;
        Assert.Equal(childRunId, completed.ChildWorkflowExecutionCompletedEventAttributes.WorkflowExecution.RunId);
        await Replay.AssertDeterministicAsync(history, typeof(ParentWorkflow));

        // The child's own run points back at the parent.
        var child = client.GetWorkflowHandle(childId, childRunId);
        var childHistory = await child.FetchHistoryAsync();
        var childStarted = childHistory.Events.First().WorkflowExecutionStartedEventAttributes;
        Assert.Equal(parent.Id, childStarted.ParentWorkflowExecution.WorkflowId);
        Assert.Equal(parent.ResultRunId, childStarted.ParentWorkflowExecution.RunId);
        Assert.Equal(initiated.EventId, childStarted.ParentInitiatedEventId);
        Assert.Equal(EventType.WorkflowExecutionCompleted, childHistory.Events.Last().EventType);
        var childDescription = await child.DescribeAsync();
        Assert.Equal(parent.Id, childDescription.ParentId);
        Assert.Equal(parent.ResultRunId, childDescription.ParentRunId);
        await Replay.AssertDeterministicAsync(childHistory, typeof(ChildWorkflow));
    }

    [Fact]
    public async Task ExecuteChildWorkflowAsync_ChildFails_ParentSeesChildWorkflowFailureWithCause()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var childId = $"child-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, WorkerOptions(taskQueue));

        var parent = await StartParentAsync(client, taskQueue, "fail", childId);
        Assert.Equal($"child failed: {childId} ChildError child went wrong", await parent.GetResultAsync());

        var history = await parent.FetchHistoryAsync();
        var started = Assert.Single(history.Events, e => e.EventType == EventType.ChildWorkflowExecutionStarted);
        var failed = Assert.Single(history.Events, e => e.EventType == EventType.ChildWorkflowExecutionFailed);
        Assert.Equal(started.EventId, failed.ChildWorkflowExecutionFailedEventAttributes.StartedEventId);
        Assert.Equal("child went wrong", failed.ChildWorkflowExecutionFailedEventAttributes.Failure.Message);
        await Replay.AssertDeterministicAsync(history, typeof(ParentWorkflow));

        var childError = await Assert.ThrowsAsync<WorkflowFailedException>(() => client.GetWorkflowHandle(childId).GetResultAsync<string>());
        Assert.Equal("child went wrong", Assert.IsType<ApplicationFailureException>(childError.InnerException).Message);
        await Replay.AssertDeterministicAsync(await client.GetWorkflowHandle(childId).FetchHistoryAsync(), typeof(ChildWorkflow));
    }

    [Fact]
    public async Task StartChildWorkflowAsync_IdAlreadyRunning_ParentSeesWorkflowAlreadyStartedException()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var childId = $"child-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, WorkerOptions(taskQueue));
        var occupant = await client.StartWorkflowAsync((ChildWorkflow wf) => wf.RunAsync("wait"), new WorkflowOptions(childId, taskQueue));

        var parent = await StartParentAsync(client, taskQueue, "already-started", childId);
        Assert.Equal($"already started: {childId} ChildWorkflow", await parent.GetResultAsync());

        var history = await parent.FetchHistoryAsync();
        var initiated = Assert.Single(history.Events, e => e.EventType == EventType.StartChildWorkflowExecutionInitiated);
        var failed = Assert.Single(history.Events, e => e.EventType == EventType.StartChildWorkflowExecutionFailed);
        Assert.Equal(StartChildWorkflowExecutionFailedCause.WorkflowAlreadyExists, failed.StartChildWorkflowExecutionFailedEventAttributes.Cause);
        Assert.Equal(initiated.EventId, failed.StartChildWorkflowExecutionFailedEventAttributes.InitiatedEventId);
        Assert.Equal(childId, failed.StartChildWorkflowExecutionFailedEventAttributes.WorkflowId);
        Assert.DoesNotContain(history.Events, e => e.EventType == EventType.ChildWorkflowExecutionStarted);
        await Replay.AssertDeterministicAsync(history, typeof(ParentWorkflow));

        // The occupant is untouched by the failed child start.
        var description = await occupant.DescribeAsync();
        Assert.Equal(WorkflowExecutionStatus.Running, description.Status);
        Assert.Equal(occupant.ResultRunId, description.RunId);
        await occupant.TerminateAsync("test cleanup");
    }

    [Fact]
    public async Task StartChildWorkflowAsync_CancelledWithWaitCancellationCompleted_ParentResolvesAfterChildCanceled()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var childId = $"child-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, WorkerOptions(taskQueue));

        var parent = await StartParentAsync(client, taskQueue, "cancel", childId);
        Assert.Equal($"child cancelled: {childId}", await parent.GetResultAsync());

        var history = await parent.FetchHistoryAsync();
        var types = EventTypes(history);
        var started = Assert.Single(history.Events, e => e.EventType == EventType.ChildWorkflowExecutionStarted);
        var cancelInitiated = Assert.Single(history.Events, e => e.EventType == EventType.RequestCancelExternalWorkflowExecutionInitiated);
        var cancelRequested = Assert.Single(history.Events, e => e.EventType == EventType.ExternalWorkflowExecutionCancelRequested);
        var canceled = Assert.Single(history.Events, e => e.EventType == EventType.ChildWorkflowExecutionCanceled);
        Assert.True(cancelInitiated.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes.ChildWorkflowOnly);
        Assert.Equal(childId, cancelInitiated.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes.WorkflowExecution.WorkflowId);
        Assert.Equal(cancelInitiated.EventId, cancelRequested.ExternalWorkflowExecutionCancelRequestedEventAttributes.InitiatedEventId);
        Assert.Equal(started.EventId, canceled.ChildWorkflowExecutionCanceledEventAttributes.StartedEventId);
        // WaitCancellationCompleted: the parent completes only after it has seen ChildWorkflowExecutionCanceled.
        Assert.True(types.IndexOf(EventType.ChildWorkflowExecutionCanceled) < types.LastIndexOf(EventType.WorkflowTaskStarted));
        Assert.Equal(EventType.WorkflowExecutionCompleted, types[^1]);
        await Replay.AssertDeterministicAsync(history, typeof(ParentWorkflow));

        var childHistory = await client.GetWorkflowHandle(childId).FetchHistoryAsync();
        Assert.Contains(childHistory.Events, e => e.EventType == EventType.WorkflowExecutionCancelRequested);
        Assert.Equal(EventType.WorkflowExecutionCanceled, childHistory.Events.Last().EventType);
        await Replay.AssertDeterministicAsync(childHistory, typeof(ChildWorkflow));
    }

    [Fact]
    public async Task TerminateAsync_RunningChild_ParentSeesChildTerminated()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var childId = $"child-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, WorkerOptions(taskQueue));
        var parent = await StartParentAsync(client, taskQueue, "terminated", childId);
        await WaitForEventAsync(parent, EventType.ChildWorkflowExecutionStarted, TimeSpan.FromSeconds(30), "child never started");

        await client.GetWorkflowHandle(childId).TerminateAsync("child stopped by test");

        Assert.Equal($"child terminated: {childId}", await parent.GetResultAsync());
        var childClose = (await client.GetWorkflowHandle(childId).FetchHistoryAsync()).Events.Last();
        Assert.Equal("child stopped by test", childClose.WorkflowExecutionTerminatedEventAttributes.Reason);
        var history = await parent.FetchHistoryAsync();
        var started = Assert.Single(history.Events, e => e.EventType == EventType.ChildWorkflowExecutionStarted);
        var terminated = Assert.Single(history.Events, e => e.EventType == EventType.ChildWorkflowExecutionTerminated);
        Assert.Equal(started.EventId, terminated.ChildWorkflowExecutionTerminatedEventAttributes.StartedEventId);
        await Replay.AssertDeterministicAsync(history, typeof(ParentWorkflow));
    }

    [Fact]
    public async Task ExecuteChildWorkflowAsync_ChildContinuesAsNewOrRetries_ParentNotifiedOnceWhenChainCloses()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var continuingId = $"child-can-{Guid.NewGuid()}";
        var retriedId = $"child-retry-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, WorkerOptions(taskQueue));

        var parent = await client.StartWorkflowAsync((ChainParentWorkflow wf) => wf.RunAsync(continuingId, retriedId), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        Assert.Equal("continued 2 times | succeeded on attempt 2", await parent.GetResultAsync());

        var history = await parent.FetchHistoryAsync();
        Assert.Equal(2, history.Events.Count(e => e.EventType == EventType.ChildWorkflowExecutionStarted));
        Assert.Equal(2, history.Events.Count(e => e.EventType == EventType.ChildWorkflowExecutionCompleted));
        Assert.DoesNotContain(history.Events, e => e.EventType is EventType.ChildWorkflowExecutionFailed or EventType.StartChildWorkflowExecutionFailed);
        await Replay.AssertDeterministicAsync(history, typeof(ChainParentWorkflow));

        // Each chain's later runs keep the first run id and the parent link.
        foreach (var (childId, runs) in new[] { (continuingId, 3), (retriedId, 2) })
        {
            var startedEvent = history.Events.Single(e => e.ChildWorkflowExecutionStartedEventAttributes?.WorkflowExecution.WorkflowId == childId);
            var firstRunId = startedEvent.ChildWorkflowExecutionStartedEventAttributes.WorkflowExecution.RunId;
            var runId = firstRunId;
            for (var i = 0; i < runs; i++)
            {
                var childHistory = await client.GetWorkflowHandle(childId, runId).FetchHistoryAsync();
                var childStarted = childHistory.Events.First().WorkflowExecutionStartedEventAttributes;
                Assert.Equal(firstRunId, childStarted.FirstExecutionRunId);
                Assert.Equal(parent.Id, childStarted.ParentWorkflowExecution.WorkflowId);
                var close = childHistory.Events.Last();
                runId = close.WorkflowExecutionContinuedAsNewEventAttributes?.NewExecutionRunId
                    ?? close.WorkflowExecutionFailedEventAttributes?.NewExecutionRunId
                    ?? string.Empty;
                Assert.Equal(i == runs - 1, close.EventType == EventType.WorkflowExecutionCompleted);
                await Replay.AssertDeterministicAsync(childHistory, typeof(ContinuingChildWorkflow), typeof(RetriedChildWorkflow));
            }
        }
    }

    [Fact]
    public async Task TerminateAsync_ParentWithRunningChildren_AppliesEachChildsParentClosePolicy()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var terminateChild = $"child-t-{Guid.NewGuid()}";
        var abandonChild = $"child-a-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, WorkerOptions(taskQueue));

        var parent = await StartClosingParentWithChildrenAsync(client, taskQueue, terminateChild, abandonChild);
        await parent.TerminateAsync("parent stopped by test");

        var parentError = await Assert.ThrowsAsync<WorkflowFailedException>(() => parent.GetResultAsync());
        Assert.Equal("parent stopped by test", Assert.IsType<TerminatedFailureException>(parentError.InnerException).Message);
        await AssertParentClosePolicyAppliedAsync(client, terminateChild, abandonChild);
        await Replay.AssertDeterministicAsync(await parent.FetchHistoryAsync(), typeof(ClosingParentWorkflow));
    }

    [Fact]
    public async Task GetResultAsync_ParentCompletesWithRunningChildren_AppliesEachChildsParentClosePolicy()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var terminateChild = $"child-t-{Guid.NewGuid()}";
        var abandonChild = $"child-a-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, WorkerOptions(taskQueue));

        var parent = await StartClosingParentWithChildrenAsync(client, taskQueue, terminateChild, abandonChild);
        await parent.SignalAsync(wf => wf.FinishAsync());

        Assert.Equal("parent done", await parent.GetResultAsync());
        await AssertParentClosePolicyAppliedAsync(client, terminateChild, abandonChild);
        await Replay.AssertDeterministicAsync(await parent.FetchHistoryAsync(), typeof(ClosingParentWorkflow));
    }

    [Fact]
    public async Task GetResultAsync_ParentContinuesAsNewWithRunningChild_TerminatesChildOfClosedRun()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var childId = $"child-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, WorkerOptions(taskQueue));

        var parent = await client.StartWorkflowAsync((ContinuingParentWorkflow wf) => wf.RunAsync(childId, false), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        Assert.Equal("second run", await parent.GetResultAsync());

        // Continue-as-new closes the run that owned the child, so its TERMINATE policy applies.
        var child = client.GetWorkflowHandle(childId);
        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => child.GetResultAsync<string>());
        Assert.IsType<TerminatedFailureException>(error.InnerException);
        var firstRun = await client.GetWorkflowHandle(parent.Id, parent.ResultRunId).FetchHistoryAsync();
        Assert.Equal(EventType.WorkflowExecutionContinuedAsNew, firstRun.Events.Last().EventType);
        await Replay.AssertDeterministicAsync(firstRun, typeof(ContinuingParentWorkflow));
        await Replay.AssertDeterministicAsync(await client.GetWorkflowHandle(parent.Id).FetchHistoryAsync(), typeof(ContinuingParentWorkflow));
    }

    private static Task<WorkflowHandle<ParentWorkflow, string>> StartParentAsync(TemporalClient client, string taskQueue, string scenario, string childId) =>
        client.StartWorkflowAsync((ParentWorkflow wf) => wf.RunAsync(scenario, childId), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));

    /// <summary>Starts <see cref="ClosingParentWorkflow"/> and waits until all its children have started.</summary>
    private static async Task<WorkflowHandle<ClosingParentWorkflow, string>> StartClosingParentWithChildrenAsync(
        TemporalClient client, string taskQueue, string terminateChild, string abandonChild)
    {
        var parent = await client.StartWorkflowAsync((ClosingParentWorkflow wf) => wf.RunAsync(terminateChild, abandonChild), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        await WaitForChildrenStartedAsync(parent);
        return parent;
    }

    private static Task WaitForChildrenStartedAsync(WorkflowHandle parent) =>
        Eventually.TrueAsync(async () =>
        {
            var events = (await parent.FetchHistoryAsync()).Events;
            return events.Count(e => e.EventType == EventType.ChildWorkflowExecutionStarted) == 3
                && events.Last().EventType == EventType.WorkflowTaskCompleted;
        }, TimeSpan.FromSeconds(30), "children never started");

    private static async Task AssertParentClosePolicyAppliedAsync(TemporalClient client, string terminateChild, string abandonChild)
    {
        var terminated = client.GetWorkflowHandle(terminateChild);
        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() => terminated.GetResultAsync<string>());
        Assert.IsType<TerminatedFailureException>(error.InnerException);
        Assert.Equal(WorkflowExecutionStatus.Terminated, (await terminated.DescribeAsync()).Status);

        // REQUEST_CANCEL asks the child to cancel; the child then cancels itself.
        var cancelled = client.GetWorkflowHandle($"{abandonChild}-cancel");
        var cancelError = await Assert.ThrowsAsync<WorkflowFailedException>(() => cancelled.GetResultAsync<string>());
        Assert.IsType<CanceledFailureException>(cancelError.InnerException);
        var cancelledHistory = await cancelled.FetchHistoryAsync();
        Assert.Contains(cancelledHistory.Events, e => e.EventType == EventType.WorkflowExecutionCancelRequested);
        await Replay.AssertDeterministicAsync(cancelledHistory, typeof(ChildWorkflow));

        var abandoned = client.GetWorkflowHandle(abandonChild);
        Assert.Equal(WorkflowExecutionStatus.Running, (await abandoned.DescribeAsync()).Status);
        Assert.DoesNotContain((await abandoned.FetchHistoryAsync()).Events, e => e.EventType == EventType.WorkflowExecutionCancelRequested);
        await abandoned.TerminateAsync("test cleanup");
    }
}
