using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;
using static AgentOrchestrator.DevServer.Tests.ScenarioHelpers;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>Spec 8.1 scenario 14: both query delivery paths, closed runs and failing handlers.</summary>
public sealed class QueryTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class QueryWorkflow
    {
        private readonly List<string> _log = [];
        private bool _finish;

        [WorkflowRun]
        public async Task<string> RunAsync(bool useLocalActivity)
        {
            _log.Add("started");
            if (useLocalActivity)
            {
                _log.Add(await Workflow.ExecuteLocalActivityAsync(() => Gate(Workflow.Info.WorkflowId),
                    new LocalActivityOptions { StartToCloseTimeout = TimeSpan.FromSeconds(60) }));
            }
            await Workflow.WaitConditionAsync(() => _finish);
            return string.Join(",", _log);
        }

        [WorkflowSignal]
        public Task AddAsync(string item)
        {
            _log.Add(item);
            return Task.CompletedTask;
        }

        [WorkflowSignal]
        public Task FinishAsync()
        {
            _finish = true;
            return Task.CompletedTask;
        }

        [WorkflowQuery]
        public string Log() => string.Join(",", _log);

        [WorkflowQuery]
        public string Fail(string message) => throw new InvalidOperationException(message);

        /// <summary>Keeps the first workflow task in flight until the test releases it.</summary>
        [Activity]
        public static async Task<string> Gate(string workflowId)
        {
            var gate = Gates[workflowId];
            gate.Entered.TrySetResult();
            await gate.Release.Task.WaitAsync(ActivityExecutionContext.Current.CancellationToken);
            return "gate-passed";
        }
    }

    private sealed record GateSignals(TaskCompletionSource Entered, TaskCompletionSource Release);

    private static readonly ConcurrentDictionary<string, GateSignals> Gates = new();

    [Theory]
    [InlineData(10000)]
    [InlineData(0)] // the legacy query task then replays the full history
    public async Task QueryAsync_IdleWorkflow_AnsweredByLegacyQueryTaskWithoutNewEvents(int maxCachedWorkflows)
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue) { MaxCachedWorkflows = maxCachedWorkflows }.AddWorkflow<QueryWorkflow>());

        var handle = await StartQueryWorkflowAsync(client, taskQueue);
        await WaitUntilIdleAsync(handle, "first task never completed");
        await handle.SignalAsync(wf => wf.AddAsync("one"));
        // Idle = the signal's workflow task has completed and nothing is scheduled.
        await WaitUntilIdleAsync(handle, "workflow never became idle");
        var before = (await handle.FetchHistoryAsync()).Events.Count;

        Assert.Equal("started,one", await handle.QueryAsync(wf => wf.Log()));
        Assert.Equal("started,one", await handle.QueryAsync(wf => wf.Log()));

        // A legacy query task writes nothing to history.
        Assert.Equal(before, (await handle.FetchHistoryAsync()).Events.Count);

        await handle.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal("started,one", await handle.GetResultAsync());
        await Replay.AssertDeterministicAsync(await handle.FetchHistoryAsync(), typeof(QueryWorkflow));
    }

    [Fact]
    public async Task QueryAsync_WorkflowTaskInFlight_AnsweredAfterThatTaskWithNextTaskEvents()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var workflowId = $"wf-{Guid.NewGuid()}";
        var gate = OpenGate(workflowId);
        await using var worker = StartWorkerWithGate(client, taskQueue);
        var handle = await StartHeldAtGateAsync(client, workflowId, taskQueue, gate);

        // Both arrive while the first workflow task is started: the signal is buffered and the query waits for the next task.
        await handle.SignalAsync(wf => wf.AddAsync("sig"));
        var query = handle.QueryAsync(wf => wf.Log());
        var inFlight = await handle.FetchHistoryAsync();
        Assert.Equal(EventType.WorkflowTaskStarted, inFlight.Events.Last().EventType);
        Assert.False(query.IsCompleted);

        gate.Release.SetResult();
        // The query is answered in the task that delivers the buffered signal, so it already sees it.
        Assert.Equal("started,gate-passed,sig", await query);

        var events = EventTypes(await handle.FetchHistoryAsync());
        Assert.Equal(
            [
                .. FirstWorkflowTask,
                EventType.MarkerRecorded, EventType.WorkflowExecutionSignaled,
                .. WorkflowTask,
            ],
            events);

        await handle.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal("started,gate-passed,sig", await handle.GetResultAsync());
        await Replay.AssertDeterministicAsync(await handle.FetchHistoryAsync(), typeof(QueryWorkflow));
        Gates.TryRemove(workflowId, out _);
    }

    [Fact]
    public async Task QueryAsync_WorkflowTaskInFlightAndNothingFollows_AnsweredAfterThatTaskCompletes()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var workflowId = $"wf-{Guid.NewGuid()}";
        var gate = OpenGate(workflowId);
        await using var worker = StartWorkerWithGate(client, taskQueue);
        var handle = await StartHeldAtGateAsync(client, workflowId, taskQueue, gate);

        // No new event arrives, so no next task is scheduled: the held query must still be answered once the task completes.
        var query = handle.QueryAsync(wf => wf.Log());
        Assert.Equal(EventType.WorkflowTaskStarted, (await handle.FetchHistoryAsync()).Events.Last().EventType);
        Assert.False(query.IsCompleted);
        gate.Release.SetResult();
        Assert.Equal("started,gate-passed", await query);

        Assert.Equal(
            [
                .. FirstWorkflowTask,
                EventType.MarkerRecorded,
            ],
            (await handle.FetchHistoryAsync()).Events.Select(e => e.EventType));

        await handle.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal("started,gate-passed", await handle.GetResultAsync());
        await Replay.AssertDeterministicAsync(await handle.FetchHistoryAsync(), typeof(QueryWorkflow));
        Gates.TryRemove(workflowId, out _);
    }

    [Fact]
    public async Task QueryAsync_WorkflowTaskScheduledButNoWorker_AnsweredByFirstTaskOnceWorkerPolls()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var handle = await StartQueryWorkflowAsync(client, taskQueue);

        // The first task is scheduled and waiting; the query rides along with it when a worker appears.
        var query = handle.QueryAsync(wf => wf.Log(), new() { Rpc = new() { Timeout = TimeSpan.FromSeconds(60) } });
        Assert.Equal(EventType.WorkflowTaskScheduled, (await handle.FetchHistoryAsync()).Events.Last().EventType);
        Assert.False(query.IsCompleted);
        await using var worker = StartQueryWorker(client, taskQueue);
        Assert.Equal("started", await query);

        await FinishAndAssertNoTaskFailedAsync(handle, "started");
    }

    [Fact]
    public async Task QueryAsync_ClosedWorkflowWithRejectConditionNotOpen_ThrowsWorkflowQueryRejectedException()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = StartQueryWorker(client, taskQueue);
        var handle = await StartQueryWorkflowAsync(client, taskQueue);
        await handle.SignalAsync(wf => wf.FinishAsync());
        await handle.GetResultAsync();

        var error = await Assert.ThrowsAsync<WorkflowQueryRejectedException>(
            () => handle.QueryAsync(wf => wf.Log(), new() { RejectCondition = QueryRejectCondition.NotOpen }));
        Assert.Equal(WorkflowExecutionStatus.Completed, error.WorkflowStatus);
        await Replay.AssertDeterministicAsync(await handle.FetchHistoryAsync(), typeof(QueryWorkflow));
    }

    [Fact]
    public async Task QueryAsync_AfterWorkerRestart_NewWorkerReplaysAndAnswers()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        WorkflowHandle<QueryWorkflow, string> handle;
        await using (StartQueryWorker(client, taskQueue))
        {
            handle = await StartQueryWorkflowAsync(client, taskQueue);
            await WaitUntilIdleAsync(handle, "first task never completed");
            await handle.SignalAsync(wf => wf.AddAsync("before-restart"));
            await WaitUntilIdleAsync(handle, "signal task never completed");
        }

        // The first worker's cache (and sticky queue) is gone: the new worker must be given the full history.
        await using var worker = StartQueryWorker(client, taskQueue);
        Assert.Equal("started,before-restart", await handle.QueryAsync(wf => wf.Log(), new() { Rpc = new() { Timeout = TimeSpan.FromSeconds(60) } }));
        await handle.SignalAsync(wf => wf.AddAsync("after-restart"));
        await FinishAndAssertNoTaskFailedAsync(handle, "started,before-restart,after-restart");
    }

    [Fact]
    public async Task QueryAsync_CompletedWorkflow_ReturnsFinalState()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = StartQueryWorker(client, taskQueue);

        var handle = await StartQueryWorkflowAsync(client, taskQueue);
        await WaitUntilIdleAsync(handle, "first task never completed");
        await handle.SignalAsync(wf => wf.AddAsync("last"));
        await handle.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal("started,last", await handle.GetResultAsync());
        var closedLength = (await handle.FetchHistoryAsync()).Events.Count;

        Assert.Equal("started,last", await handle.QueryAsync(wf => wf.Log()));

        var history = await handle.FetchHistoryAsync();
        Assert.Equal(closedLength, history.Events.Count);
        Assert.Equal(EventType.WorkflowExecutionCompleted, history.Events.Last().EventType);
        await Replay.AssertDeterministicAsync(history, typeof(QueryWorkflow));
    }

    [Fact]
    public async Task QueryAsync_HandlerThrows_ThrowsWorkflowQueryFailedException()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = StartQueryWorker(client, taskQueue);

        var handle = await StartQueryWorkflowAsync(client, taskQueue);
        await WaitUntilIdleAsync(handle, "workflow never became idle");

        var error = await Assert.ThrowsAsync<WorkflowQueryFailedException>(() => handle.QueryAsync(wf => wf.Fail("query exploded")));
        Assert.Contains("query exploded", error.Message, StringComparison.Ordinal);

        // A failed query leaves the workflow healthy: it still answers and completes.
        Assert.Equal("started", await handle.QueryAsync(wf => wf.Log()));
        await FinishAndAssertNoTaskFailedAsync(handle, "started");
    }

    private static WorkerScope StartQueryWorker(TemporalClient client, string taskQueue) =>
        WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<QueryWorkflow>());

    /// <summary>Lets the workflow finish, checks its result, and checks that no workflow task failed on the way and the history replays.</summary>
    private static async Task FinishAndAssertNoTaskFailedAsync(WorkflowHandle<QueryWorkflow, string> handle, string expectedResult)
    {
        await handle.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal(expectedResult, await handle.GetResultAsync());
        var history = await handle.FetchHistoryAsync();
        Assert.DoesNotContain(history.Events, e => e.EventType == EventType.WorkflowTaskFailed);
        await Replay.AssertDeterministicAsync(history, typeof(QueryWorkflow));
    }

    private static Task<WorkflowHandle<QueryWorkflow, string>> StartQueryWorkflowAsync(TemporalClient client, string taskQueue) =>
        client.StartWorkflowAsync((QueryWorkflow wf) => wf.RunAsync(false), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));

    private static WorkerScope StartWorkerWithGate(TemporalClient client, string taskQueue) =>
        WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<QueryWorkflow>()
            .AddActivity(QueryWorkflow.Gate));

    private static GateSignals OpenGate(string workflowId)
    {
        var gate = new GateSignals(new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously));
        Gates[workflowId] = gate;
        return gate;
    }

    /// <summary>Starts the workflow on its gate activity and waits until its first workflow task is held at the gate.</summary>
    private static async Task<WorkflowHandle<QueryWorkflow, string>> StartHeldAtGateAsync(TemporalClient client, string workflowId, string taskQueue, GateSignals gate)
    {
        // A long task timeout keeps the first workflow task open (no local-activity heartbeat) while the gate is closed.
        var handle = await client.StartWorkflowAsync((QueryWorkflow wf) => wf.RunAsync(true),
            new WorkflowOptions(workflowId, taskQueue) { TaskTimeout = TimeSpan.FromSeconds(60) });
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return handle;
    }

    private static Task WaitUntilIdleAsync(WorkflowHandle handle, string because) =>
        Eventually.TrueAsync(async () => IsIdle(await handle.FetchHistoryAsync()), TimeSpan.FromSeconds(30), because);

    private static bool IsIdle(WorkflowHistory history)
    {
        var last = history.Events.Last().EventType;
        return last != EventType.WorkflowTaskScheduled && last != EventType.WorkflowTaskStarted
            && history.Events.Count(e => e.EventType == EventType.WorkflowTaskScheduled) == history.Events.Count(e => e.EventType == EventType.WorkflowTaskCompleted);
    }
}
