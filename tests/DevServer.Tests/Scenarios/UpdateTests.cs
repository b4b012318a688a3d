using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>Spec 8.1 scenarios 15-17: updates, long-running update handlers and update-with-start.</summary>
public sealed class UpdateTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class UpdateWorkflow
    {
        private int _total;
        private bool _finish;

        [WorkflowRun]
        public async Task<int> RunAsync()
        {
            await Workflow.WaitConditionAsync(() => _finish);
            return _total;
        }

        [WorkflowUpdate]
        public Task<int> AddAsync(int amount)
        {
            _total += amount;
            return Task.FromResult(_total);
        }

        [WorkflowUpdateValidator(nameof(AddAsync))]
        public void ValidateAdd(int amount)
        {
            if (amount < 0)
            {
                throw new ApplicationFailureException("amount must not be negative");
            }
        }

        [WorkflowUpdate]
        public async Task<string> SlowAsync(int seconds)
        {
            await Workflow.DelayAsync(TimeSpan.FromSeconds(seconds));
            return $"waited {seconds}s";
        }

        [WorkflowSignal]
        public Task FinishAsync()
        {
            _finish = true;
            return Task.CompletedTask;
        }
    }

    [Theory]
    [InlineData(10000)]
    [InlineData(0)] // every task replays the update events from history
    public async Task ExecuteUpdateAsync_AcceptedAndCompleted_WritesUpdateEventsAndReturnsResult(int maxCachedWorkflows)
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = StartUpdateWorker(client, taskQueue, maxCachedWorkflows);
        var handle = await StartUpdateWorkflowAsync(client, taskQueue);

        Assert.Equal(5, await handle.ExecuteUpdateAsync(wf => wf.AddAsync(5), new WorkflowUpdateOptions("update-ok")));

        await handle.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal(5, await handle.GetResultAsync());
        var history = await handle.FetchHistoryAsync();
        var accepted = Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionUpdateAccepted);
        var completed = Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionUpdateCompleted);
        Assert.Equal("update-ok", accepted.WorkflowExecutionUpdateAcceptedEventAttributes.ProtocolInstanceId);
        Assert.Equal("Add", accepted.WorkflowExecutionUpdateAcceptedEventAttributes.AcceptedRequest.Input.Name);
        Assert.Equal("update-ok", completed.WorkflowExecutionUpdateCompletedEventAttributes.Meta.UpdateId);
        Assert.Equal(accepted.EventId, completed.WorkflowExecutionUpdateCompletedEventAttributes.AcceptedEventId);
        Assert.NotNull(completed.WorkflowExecutionUpdateCompletedEventAttributes.Outcome.Success);
        // Both are command events of one completed workflow task.
        var taskCompleted = history.Events.Single(e => e.EventId == accepted.EventId - 1);
        Assert.Equal(EventType.WorkflowTaskCompleted, taskCompleted.EventType);
        await Replay.AssertDeterministicAsync(history, typeof(UpdateWorkflow));
    }

    [Theory]
    [InlineData(10000)]
    [InlineData(0)] // every task replays the update events from history
    public async Task ExecuteUpdateAsync_ValidatorRejects_ThrowsWorkflowUpdateFailedExceptionAndWritesNoUpdateEvents(int maxCachedWorkflows)
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = StartUpdateWorker(client, taskQueue, maxCachedWorkflows);
        var handle = await StartUpdateWorkflowAsync(client, taskQueue);

        var error = await Assert.ThrowsAsync<WorkflowUpdateFailedException>(
            () => handle.ExecuteUpdateAsync(wf => wf.AddAsync(-1), new WorkflowUpdateOptions("update-rejected")));
        var cause = Assert.IsType<ApplicationFailureException>(error.InnerException);
        Assert.Equal("amount must not be negative", cause.Message);

        // The rejected update changed nothing; a later valid one still works.
        Assert.Equal(3, await handle.ExecuteUpdateAsync(wf => wf.AddAsync(3)));
        await handle.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal(3, await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        Assert.DoesNotContain(history.Events, e =>
            e.WorkflowExecutionUpdateAcceptedEventAttributes?.ProtocolInstanceId == "update-rejected"
            || e.WorkflowExecutionUpdateCompletedEventAttributes?.Meta.UpdateId == "update-rejected"
            || e.EventType == EventType.WorkflowExecutionUpdateRejected);
        Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionUpdateAccepted);
        Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionUpdateCompleted);
        Assert.DoesNotContain(history.Events, e => e.EventType == EventType.WorkflowTaskFailed);
        await Replay.AssertDeterministicAsync(history, typeof(UpdateWorkflow));
    }

    [Fact]
    public async Task ExecuteUpdateAsync_SameUpdateIdTwice_RunsHandlerOnceAndReturnsStoredResult()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = StartUpdateWorker(client, taskQueue);
        var handle = await StartUpdateWorkflowAsync(client, taskQueue);

        Assert.Equal(4, await handle.ExecuteUpdateAsync(wf => wf.AddAsync(4), new WorkflowUpdateOptions("update-once")));
        // The repeated id attaches to the finished update instead of running the handler again.
        Assert.Equal(4, await handle.ExecuteUpdateAsync(wf => wf.AddAsync(4), new WorkflowUpdateOptions("update-once")));

        await handle.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal(4, await handle.GetResultAsync());
        // A closed run still serves the stored outcome of a known update.
        Assert.Equal(4, await handle.GetUpdateHandle<int>("update-once").GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionUpdateAccepted);
        Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionUpdateCompleted);
        await Replay.AssertDeterministicAsync(history, typeof(UpdateWorkflow));
    }

    [Fact]
    public async Task StartUpdateAsync_HandlerOutlastsSeveralPollRounds_GetResultReturnsResult()
    {
        // A 2 s long-poll hold makes the 8 s handler span several empty PollWorkflowExecutionUpdate rounds.
        await using var host = await ScenarioHelpers.StartShortLongPollServerAsync();
        var client = await ScenarioHelpers.ConnectAsync(host);
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = StartUpdateWorker(client, taskQueue);
        var handle = await StartUpdateWorkflowAsync(client, taskQueue);

        var update = await handle.StartUpdateAsync(wf => wf.SlowAsync(8), new WorkflowUpdateStartOptions(WorkflowUpdateStage.Accepted));
        var accepted = await handle.FetchHistoryAsync();
        Assert.Contains(accepted.Events, e => e.EventType == EventType.WorkflowExecutionUpdateAccepted);
        Assert.DoesNotContain(accepted.Events, e => e.EventType == EventType.WorkflowExecutionUpdateCompleted);

        Assert.Equal("waited 8s", await update.GetResultAsync<string>());

        await handle.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal(0, await handle.GetResultAsync());
        var history = await handle.FetchHistoryAsync();
        var timer = Assert.Single(history.Events, e => e.EventType == EventType.TimerStarted);
        Assert.Equal(TimeSpan.FromSeconds(8), timer.TimerStartedEventAttributes.StartToFireTimeout.ToTimeSpan());
        var fired = Assert.Single(history.Events, e => e.EventType == EventType.TimerFired);
        var completed = Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionUpdateCompleted);
        Assert.Equal(update.Id, completed.WorkflowExecutionUpdateCompletedEventAttributes.Meta.UpdateId);
        Assert.True(completed.EventId > fired.EventId);
        await Replay.AssertDeterministicAsync(history, typeof(UpdateWorkflow));
    }

    [Fact]
    public async Task GetResultAsync_AcceptedUpdateWhenWorkflowTerminated_ThrowsWorkflowUpdateFailedException()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = StartUpdateWorker(client, taskQueue);
        var handle = await StartUpdateWorkflowAsync(client, taskQueue);
        var update = await handle.StartUpdateAsync(wf => wf.SlowAsync(600), new WorkflowUpdateStartOptions(WorkflowUpdateStage.Accepted));

        await handle.TerminateAsync("closing with an update in flight");

        // An accepted update ends with an update failure, not a NOT_FOUND error.
        var error = await Assert.ThrowsAsync<WorkflowUpdateFailedException>(() => update.GetResultAsync<string>());
        Assert.Equal("AcceptedUpdateCompletedWorkflow", Assert.IsType<ApplicationFailureException>(error.InnerException).ErrorType);
        var history = await handle.FetchHistoryAsync();
        Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionUpdateAccepted);
        Assert.DoesNotContain(history.Events, e => e.EventType == EventType.WorkflowExecutionUpdateCompleted);
        Assert.Equal(EventType.WorkflowExecutionTerminated, history.Events.Last().EventType);
        await Replay.AssertDeterministicAsync(history, typeof(UpdateWorkflow));
    }

    [Fact]
    public async Task ExecuteUpdateWithStartWorkflowAsync_UseExisting_StartsThenReusesRun()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var workflowId = $"wf-{Guid.NewGuid()}";
        await using var worker = StartUpdateWorker(client, taskQueue);
        WithStartWorkflowOperation<WorkflowHandle<UpdateWorkflow, int>> StartOperation() =>
            WithStartWorkflowOperation.Create((UpdateWorkflow wf) => wf.RunAsync(),
                new WorkflowOptions(workflowId, taskQueue) { IdConflictPolicy = WorkflowIdConflictPolicy.UseExisting });

        var first = StartOperation();
        Assert.Equal(2, await client.ExecuteUpdateWithStartWorkflowAsync((UpdateWorkflow wf) => wf.AddAsync(2), new WorkflowUpdateWithStartOptions(first)));
        var firstHandle = await first.GetHandleAsync();

        var second = StartOperation();
        Assert.Equal(5, await client.ExecuteUpdateWithStartWorkflowAsync((UpdateWorkflow wf) => wf.AddAsync(3), new WorkflowUpdateWithStartOptions(second)));
        var secondHandle = await second.GetHandleAsync();

        Assert.NotNull(firstHandle.ResultRunId);
        Assert.Equal(firstHandle.ResultRunId, secondHandle.ResultRunId);

        await firstHandle.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal(5, await firstHandle.GetResultAsync());
        var history = await firstHandle.FetchHistoryAsync();
        Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionStarted);
        Assert.Equal(2, history.Events.Count(e => e.EventType == EventType.WorkflowExecutionUpdateAccepted));
        Assert.Equal(2, history.Events.Count(e => e.EventType == EventType.WorkflowExecutionUpdateCompleted));
        await Replay.AssertDeterministicAsync(history, typeof(UpdateWorkflow));
    }

    [Fact]
    public async Task ExecuteUpdateWithStartWorkflowAsync_ConflictPolicyFailOnRunningId_ThrowsWorkflowAlreadyStartedException()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var workflowId = $"wf-{Guid.NewGuid()}";
        await using var worker = StartUpdateWorker(client, taskQueue);
        var running = await client.StartWorkflowAsync((UpdateWorkflow wf) => wf.RunAsync(), new WorkflowOptions(workflowId, taskQueue));

        var operation = WithStartWorkflowOperation.Create((UpdateWorkflow wf) => wf.RunAsync(),
            new WorkflowOptions(workflowId, taskQueue) { IdConflictPolicy = WorkflowIdConflictPolicy.Fail });
        var error = await Assert.ThrowsAsync<WorkflowAlreadyStartedException>(
            () => client.ExecuteUpdateWithStartWorkflowAsync((UpdateWorkflow wf) => wf.AddAsync(1), new WorkflowUpdateWithStartOptions(operation)));
        Assert.Equal(workflowId, error.WorkflowId);
        Assert.Equal(running.ResultRunId, error.RunId);

        // The update was aborted with the start: the running workflow never saw it.
        await running.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal(0, await running.GetResultAsync());
        var history = await running.FetchHistoryAsync();
        Assert.DoesNotContain(history.Events, e => e.EventType == EventType.WorkflowExecutionUpdateAccepted);
        await Replay.AssertDeterministicAsync(history, typeof(UpdateWorkflow));
    }

    /// <summary>A worker for <see cref="UpdateWorkflow"/>; <paramref name="maxCachedWorkflows"/> overrides the SDK's cache size when given.</summary>
    private static WorkerScope StartUpdateWorker(TemporalClient client, string taskQueue, int? maxCachedWorkflows = null)
    {
        var options = new TemporalWorkerOptions(taskQueue).AddWorkflow<UpdateWorkflow>();
        if (maxCachedWorkflows is int max)
        {
            options.MaxCachedWorkflows = max;
        }
        return WorkerScope.Start(client, options);
    }

    private static Task<WorkflowHandle<UpdateWorkflow, int>> StartUpdateWorkflowAsync(TemporalClient client, string taskQueue) =>
        client.StartWorkflowAsync((UpdateWorkflow wf) => wf.RunAsync(), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
}
