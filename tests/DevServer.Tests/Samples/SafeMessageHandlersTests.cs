using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Update.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>
/// Concurrent async update handlers serialised by a workflow mutex; the run waits for all handlers to
/// finish before continuing as new or completing, and later updates reach the new run.
/// </summary>
public sealed class SafeMessageHandlersTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    public sealed record PoolInput(
        int NodeCount, int MaxAssignmentsPerRun, Dictionary<string, string>? Assignments = null, int Run = 1, bool GateBeforeContinueAsNew = false);

    public sealed record AssignRequest(string Job, int Nodes);

    public sealed record PoolResult(Dictionary<string, string> Assignments, int Runs);

    public sealed record ProvisionRequest(string PoolId, string Job, List<string> Nodes);

    public sealed class Gate
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public static class ProvisionActivities
    {
        private static readonly ConcurrentDictionary<string, int> Running = new();

        public static ConcurrentDictionary<string, int> MaxConcurrent { get; } = new();

        public static ConcurrentDictionary<string, Gate> Gates { get; } = new();

        /// <summary>Run as a local activity, so the workflow task that will continue as new stays in flight until released.</summary>
        [Activity]
        public static async Task HoldBeforeContinueAsNewAsync(string poolId)
        {
            var gate = Gates[poolId];
            gate.Entered.TrySetResult();
            await gate.Release.Task.WaitAsync(ActivityExecutionContext.Current.CancellationToken);
        }

        [Activity]
        public static async Task ProvisionAsync(ProvisionRequest request)
        {
            var now = Running.AddOrUpdate(request.PoolId, 1, (_, n) => n + 1);
            MaxConcurrent.AddOrUpdate(request.PoolId, now, (_, n) => Math.Max(n, now));
            try
            {
                // Hold the nodes briefly so unserialised handlers would overlap here.
                await Task.Delay(TimeSpan.FromMilliseconds(200), ActivityExecutionContext.Current.CancellationToken);
            }
            finally
            {
                Running.AddOrUpdate(request.PoolId, 0, (_, n) => n - 1);
            }
        }
    }

    [Workflow]
    public sealed class NodePoolWorkflow
    {
        private static readonly ActivityOptions Options = new() { StartToCloseTimeout = TimeSpan.FromSeconds(30) };

        private readonly Temporalio.Workflows.Mutex _nodesLock = new();
        private readonly Dictionary<string, string> _assignments;
        private readonly int _nodeCount;
        private int _assignedThisRun;
        private bool _shutdown;

        [WorkflowInit]
        public NodePoolWorkflow(PoolInput input)
        {
            _nodeCount = input.NodeCount;
            _assignments = input.Assignments ?? [];
        }

        [WorkflowRun]
        public async Task<PoolResult> RunAsync(PoolInput input)
        {
            await Workflow.WaitConditionAsync(() => _shutdown || _assignedThisRun >= input.MaxAssignmentsPerRun);
            // Let in-flight update handlers finish before the run ends so none is abandoned.
            await Workflow.WaitConditionAsync(() => Workflow.AllHandlersFinished);
            if (_shutdown)
            {
                return new PoolResult(_assignments, input.Run);
            }
            var next = input with { Assignments = _assignments, Run = input.Run + 1 };
            if (input.GateBeforeContinueAsNew)
            {
                await Workflow.ExecuteLocalActivityAsync(() => ProvisionActivities.HoldBeforeContinueAsNewAsync(Workflow.Info.WorkflowId),
                    new LocalActivityOptions { StartToCloseTimeout = TimeSpan.FromSeconds(60) });
                // Only the first run is held; the next one keeps all later assignments.
                next = next with { GateBeforeContinueAsNew = false, MaxAssignmentsPerRun = int.MaxValue };
            }
            throw Workflow.CreateContinueAsNewException((NodePoolWorkflow wf) => wf.RunAsync(next));
        }

        [WorkflowUpdate]
        public async Task<List<string>> AssignAsync(AssignRequest request)
        {
            await _nodesLock.WaitOneAsync();
            try
            {
                var free = Enumerable.Range(0, _nodeCount).Select(i => $"node-{i:D2}").Where(n => !_assignments.ContainsKey(n)).ToList();
                if (free.Count < request.Nodes)
                {
                    throw new ApplicationFailureException($"only {free.Count} nodes free", "PoolExhausted");
                }
                var nodes = free.Take(request.Nodes).ToList();
                await Workflow.ExecuteActivityAsync(() => ProvisionActivities.ProvisionAsync(
                    new ProvisionRequest(Workflow.Info.WorkflowId, request.Job, nodes)), Options);
                foreach (var node in nodes)
                {
                    _assignments[node] = request.Job;
                }
                _assignedThisRun++;
                return nodes;
            }
            finally
            {
                _nodesLock.ReleaseMutex();
            }
        }

        [WorkflowUpdateValidator(nameof(AssignAsync))]
        public void ValidateAssign(AssignRequest request)
        {
            if (_shutdown)
            {
                throw new InvalidOperationException("pool is shutting down");
            }
            if (request.Nodes <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(request), "at least one node is required");
            }
        }

        [WorkflowUpdate]
        public async Task<int> ReleaseAsync(string job)
        {
            await _nodesLock.WaitOneAsync();
            try
            {
                var nodes = _assignments.Where(a => a.Value == job).Select(a => a.Key).ToList();
                foreach (var node in nodes)
                {
                    _assignments.Remove(node);
                }
                return nodes.Count;
            }
            finally
            {
                _nodesLock.ReleaseMutex();
            }
        }

        [WorkflowSignal]
        public Task ShutdownAsync()
        {
            _shutdown = true;
            return Task.CompletedTask;
        }

        [WorkflowQuery]
        public Dictionary<string, string> Assignments => _assignments;
    }

    [Fact]
    public async Task ConcurrentUpdates_SerialisedByMutex_FinishBeforeContinueAsNewAndCompletion()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var poolId = $"pool-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<NodePoolWorkflow>()
            .AddActivity(ProvisionActivities.ProvisionAsync));

        var handle = await client.StartWorkflowAsync((NodePoolWorkflow wf) => wf.RunAsync(new PoolInput(8, 3)),
            new WorkflowOptions(poolId, taskQueue));
        var firstRunId = handle.ResultRunId!;

        // Three concurrent assignments; the third one makes the run continue as new.
        var assigned = await Task.WhenAll(new[] { "build", "test", "deploy" }.Select(job =>
            handle.ExecuteUpdateAsync(wf => wf.AssignAsync(new AssignRequest(job, 2)))));
        Assert.All(assigned, nodes => Assert.Equal(2, nodes.Count));
        Assert.Equal(6, assigned.SelectMany(n => n).Distinct().Count());
        Assert.Equal(1, ProvisionActivities.MaxConcurrent[poolId]);

        await Eventually.TrueAsync(async () => (await client.GetWorkflowHandle(poolId).DescribeAsync()).RunId != firstRunId,
            because: "the pool should continue as new after three assignments");

        // The validator rejects before anything is written; the handler failure fails only the update.
        var invalid = await Assert.ThrowsAsync<WorkflowUpdateFailedException>(() =>
            handle.ExecuteUpdateAsync(wf => wf.AssignAsync(new AssignRequest("noop", 0))));
        Assert.Contains("at least one node", invalid.InnerException!.Message, StringComparison.Ordinal);
        var exhausted = await Assert.ThrowsAsync<WorkflowUpdateFailedException>(() =>
            handle.ExecuteUpdateAsync(wf => wf.AssignAsync(new AssignRequest("huge", 3))));
        Assert.Equal("PoolExhausted", Assert.IsType<ApplicationFailureException>(exhausted.InnerException).ErrorType);

        // Updates reach the continued run, which kept the assignments.
        Assert.Equal(2, await handle.ExecuteUpdateAsync(wf => wf.ReleaseAsync("test")));
        var again = await handle.ExecuteUpdateAsync(wf => wf.AssignAsync(new AssignRequest("huge", 3)));
        Assert.Equal(3, again.Count);

        await handle.SignalAsync(wf => wf.ShutdownAsync());
        var result = await handle.GetResultAsync();
        Assert.Equal(2, result.Runs);
        Assert.Equal(["build", "deploy", "huge"], result.Assignments.Values.Distinct().Order());
        Assert.Equal(7, result.Assignments.Count);

        var firstRun = await client.GetWorkflowHandle(poolId, firstRunId).FetchHistoryAsync();
        var events = firstRun.Events.ToList();
        // Serialised: each provisioning activity is scheduled only after the previous one completed.
        var scheduled = events.Where(e => e.EventType == EventType.ActivityTaskScheduled).Select(e => e.EventId).ToList();
        var completed = events.Where(e => e.EventType == EventType.ActivityTaskCompleted).Select(e => e.EventId).ToList();
        Assert.Equal(3, scheduled.Count);
        Assert.True(completed[0] < scheduled[1] && completed[1] < scheduled[2]);
        Assert.Equal(3, events.Count(e => e.EventType == EventType.WorkflowExecutionUpdateCompleted));
        var continued = events.Last();
        Assert.Equal(EventType.WorkflowExecutionContinuedAsNew, continued.EventType);
        // All three updates completed before the run continued as new.
        Assert.True(events.Where(e => e.EventType == EventType.WorkflowExecutionUpdateCompleted).All(e => e.EventId < continued.EventId));

        var secondRun = await handle.FetchHistoryAsync();
        var secondStarted = secondRun.Events.First().WorkflowExecutionStartedEventAttributes;
        Assert.Equal(firstRunId, secondStarted.ContinuedExecutionRunId);
        Assert.Equal(firstRunId, secondStarted.FirstExecutionRunId);
        Assert.Equal(continued.WorkflowExecutionContinuedAsNewEventAttributes.NewExecutionRunId,
            (await client.GetWorkflowHandle(poolId).DescribeAsync()).RunId);
        Assert.Equal(EventType.WorkflowExecutionCompleted, secondRun.Events.Last().EventType);

        await Replay.AssertDeterministicAsync(firstRun, typeof(NodePoolWorkflow));
        await Replay.AssertDeterministicAsync(secondRun, typeof(NodePoolWorkflow));
    }

    [Fact]
    public async Task UpdateAdmittedWhileContinuingAsNew_ClientRetriesOntoNewRun_AppliedExactlyOnce()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var poolId = $"pool-{Guid.NewGuid()}";
        var gate = ProvisionActivities.Gates.GetOrAdd(poolId, _ => new());
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<NodePoolWorkflow>()
            .AddActivity(ProvisionActivities.ProvisionAsync)
            .AddActivity(ProvisionActivities.HoldBeforeContinueAsNewAsync));

        var input = new PoolInput(4, 1, GateBeforeContinueAsNew: true);
        var handle = await client.StartWorkflowAsync((NodePoolWorkflow wf) => wf.RunAsync(input),
            new WorkflowOptions(poolId, taskQueue));
        var firstRunId = handle.ResultRunId!;
        var first = await handle.StartUpdateAsync(wf => wf.AssignAsync(new AssignRequest("first", 1)), new(WorkflowUpdateStage.Accepted));

        // After its one assignment the run holds the task that will continue as new open in a local activity.
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var late = handle.ExecuteUpdateAsync(wf => wf.AssignAsync(new AssignRequest("late", 1)), new("late-update"));
        await Eventually.TrueAsync(() => IsAdmittedAsync(client, poolId, "late-update"), because: "the late update should be admitted");
        gate.Release.TrySetResult();

        Assert.Equal(["node-00"], await first.GetResultAsync());
        Assert.Equal(["node-01"], await late);
        await handle.SignalAsync(wf => wf.ShutdownAsync());
        var result = await handle.GetResultAsync();
        Assert.Equal(2, result.Runs);
        Assert.Equal(new Dictionary<string, string> { ["node-00"] = "first", ["node-01"] = "late" }, result.Assignments);

        var firstRun = await client.GetWorkflowHandle(poolId, firstRunId).FetchHistoryAsync();
        var secondRun = await handle.FetchHistoryAsync();
        Assert.Equal(EventType.WorkflowExecutionContinuedAsNew, firstRun.Events.Last().EventType);
        Assert.Equal(firstRunId, secondRun.Events.First().WorkflowExecutionStartedEventAttributes.ContinuedExecutionRunId);
        // Whichever run took it, the late update was accepted and completed exactly once.
        var lateEvents = firstRun.Events.Concat(secondRun.Events).Where(e =>
            e.WorkflowExecutionUpdateAcceptedEventAttributes?.ProtocolInstanceId == "late-update" ||
            e.WorkflowExecutionUpdateCompletedEventAttributes?.Meta.UpdateId == "late-update").Select(e => e.EventType);
        Assert.Equal([EventType.WorkflowExecutionUpdateAccepted, EventType.WorkflowExecutionUpdateCompleted], lateEvents);
        await Replay.AssertDeterministicAsync(firstRun, typeof(NodePoolWorkflow));
        await Replay.AssertDeterministicAsync(secondRun, typeof(NodePoolWorkflow));
    }

    private static async Task<bool> IsAdmittedAsync(TemporalClient client, string workflowId, string updateId)
    {
        try
        {
            var response = await client.WorkflowService.PollWorkflowExecutionUpdateAsync(new PollWorkflowExecutionUpdateRequest
            {
                Namespace = client.Options.Namespace,
                UpdateRef = new UpdateRef { WorkflowExecution = new() { WorkflowId = workflowId }, UpdateId = updateId },
                WaitPolicy = new WaitPolicy { LifecycleStage = UpdateWorkflowExecutionLifecycleStage.Admitted },
            });
            return response.Stage >= UpdateWorkflowExecutionLifecycleStage.Admitted;
        }
        catch (RpcException e) when (e.Code == RpcException.StatusCode.NotFound)
        {
            return false;
        }
    }
}
