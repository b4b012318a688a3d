using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>
/// A lock workflow reached through signal-with-start grants a resource to one requester workflow at a time
/// by signalling it through an external-workflow handle, and continues as new keeping its queue.
/// </summary>
public sealed class MutexTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    public sealed record LockRequest(string RequesterId);

    public sealed record LockGrant(string LockWorkflowId, string Token);

    public sealed record LockInput(int MaxGrantsPerRun, List<LockRequest> Pending, int TotalGrants);

    public sealed record RequesterInput(string LockWorkflowId, string Resource);

    public sealed record AcquireRequest(string LockWorkflowId, string RequesterId, string TaskQueue, int MaxGrantsPerRun);

    public sealed record CriticalRequest(string Resource, string RequesterId);

    public sealed class LockActivities(ITemporalClient client)
    {
        public static ConcurrentDictionary<string, ConcurrentQueue<string>> Trace { get; } = new();

        [Activity]
        public async Task RequestLockAsync(AcquireRequest request)
        {
            // Workflows cannot signal-with-start, so an activity does it for the requester.
            var options = new WorkflowOptions(request.LockWorkflowId, request.TaskQueue);
            options.SignalWithStart((LockWorkflow wf) => wf.RequestAsync(new LockRequest(request.RequesterId)));
            var input = new LockInput(request.MaxGrantsPerRun, [], 0);
            await client.StartWorkflowAsync((LockWorkflow wf) => wf.RunAsync(input), options);
        }

        [Activity]
        public static async Task UseResourceAsync(CriticalRequest request)
        {
            var trace = Trace.GetOrAdd(request.Resource, _ => new());
            trace.Enqueue($"enter {request.RequesterId}");
            // Stay inside briefly so an overlapping holder would interleave in the trace.
            await Task.Delay(TimeSpan.FromMilliseconds(100), ActivityExecutionContext.Current.CancellationToken);
            trace.Enqueue($"exit {request.RequesterId}");
        }
    }

    [Workflow]
    public sealed class LockWorkflow
    {
        private readonly Queue<LockRequest> _pending;
        private bool _shutdown;
        private string? _heldToken;
        private bool _released;

        [WorkflowInit]
        public LockWorkflow(LockInput input) => _pending = new(input.Pending);

        [WorkflowRun]
        public async Task<int> RunAsync(LockInput input)
        {
            var total = input.TotalGrants;
            var grantedThisRun = 0;
            while (true)
            {
                await Workflow.WaitConditionAsync(() => _pending.Count > 0 || _shutdown || grantedThisRun >= input.MaxGrantsPerRun);
                if (_pending.Count == 0 && _shutdown)
                {
                    return total;
                }
                if (grantedThisRun >= input.MaxGrantsPerRun)
                {
                    await Workflow.WaitConditionAsync(() => Workflow.AllHandlersFinished);
                    var next = input with { Pending = [.. _pending], TotalGrants = total };
                    throw Workflow.CreateContinueAsNewException((LockWorkflow wf) => wf.RunAsync(next));
                }
                var request = _pending.Dequeue();
                _heldToken = Workflow.NewGuid().ToString();
                _released = false;
                await Workflow.GetExternalWorkflowHandle<RequesterWorkflow>(request.RequesterId)
                    .SignalAsync(wf => wf.GrantedAsync(new LockGrant(Workflow.Info.WorkflowId, _heldToken)));
                await Workflow.WaitConditionAsync(() => _released);
                _heldToken = null;
                grantedThisRun++;
                total++;
            }
        }

        [WorkflowSignal]
        public Task RequestAsync(LockRequest request)
        {
            _pending.Enqueue(request);
            return Task.CompletedTask;
        }

        [WorkflowSignal]
        public Task ReleaseAsync(string token)
        {
            // A stale release (wrong token) must not free the current holder.
            if (token == _heldToken)
            {
                _released = true;
            }
            return Task.CompletedTask;
        }

        [WorkflowSignal]
        public Task ShutdownAsync()
        {
            _shutdown = true;
            return Task.CompletedTask;
        }
    }

    [Workflow]
    public sealed class RequesterWorkflow
    {
        private static readonly ActivityOptions Options = new()
        {
            StartToCloseTimeout = TimeSpan.FromSeconds(30),
            RetryPolicy = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(200) },
        };

        private LockGrant? _grant;

        [WorkflowRun]
        public async Task<string> RunAsync(RequesterInput input)
        {
            var self = Workflow.Info.WorkflowId;
            await Workflow.ExecuteActivityAsync((LockActivities a) => a.RequestLockAsync(
                new AcquireRequest(input.LockWorkflowId, self, Workflow.Info.TaskQueue, 2)), Options);
            await Workflow.WaitConditionAsync(() => _grant is not null);
            await Workflow.ExecuteActivityAsync(() => LockActivities.UseResourceAsync(new CriticalRequest(input.Resource, self)), Options);
            await Workflow.GetExternalWorkflowHandle<LockWorkflow>(_grant!.LockWorkflowId).SignalAsync(wf => wf.ReleaseAsync(_grant.Token));
            return _grant.Token;
        }

        [WorkflowSignal]
        public Task GrantedAsync(LockGrant grant)
        {
            _grant = grant;
            return Task.CompletedTask;
        }
    }

    /// <summary>Histories of every run of a workflow id, oldest first, following continued_execution_run_id back.</summary>
    private static async Task<List<WorkflowHistory>> FetchRunChainAsync(TemporalClient client, string workflowId)
    {
        var runs = new List<WorkflowHistory>();
        string? runId = (await client.GetWorkflowHandle(workflowId).DescribeAsync()).RunId;
        while (runId is not null)
        {
            var history = await client.GetWorkflowHandle(workflowId, runId).FetchHistoryAsync();
            runs.Insert(0, history);
            var previous = history.Events.First().WorkflowExecutionStartedEventAttributes.ContinuedExecutionRunId;
            runId = string.IsNullOrEmpty(previous) ? null : previous;
        }
        return runs;
    }

    [Fact]
    public async Task LockViaSignalWithStart_FourRequesters_GrantedOneAtATimeAcrossContinueAsNew()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var resource = $"res-{Guid.NewGuid()}";
        var lockId = $"lock-{resource}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<LockWorkflow>()
            .AddWorkflow<RequesterWorkflow>()
            .AddAllActivities(new LockActivities(client)));

        var requesters = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            client.StartWorkflowAsync((RequesterWorkflow wf) => wf.RunAsync(new RequesterInput(lockId, resource)),
                new WorkflowOptions($"req-{i}-{Guid.NewGuid()}", taskQueue))));
        var tokens = await Task.WhenAll(requesters.Select(h => h.GetResultAsync()));
        Assert.Equal(4, tokens.Distinct().Count());

        // Strict alternation: nobody entered while another requester held the lock.
        var trace = LockActivities.Trace[resource].ToList();
        Assert.Equal(8, trace.Count);
        for (var i = 0; i < trace.Count; i += 2)
        {
            Assert.StartsWith("enter ", trace[i], StringComparison.Ordinal);
            Assert.Equal("exit " + trace[i]["enter ".Length..], trace[i + 1]);
        }
        Assert.Equal(requesters.Select(h => h.Id).Order(), trace.Where(t => t.StartsWith("enter ", StringComparison.Ordinal)).Select(t => t[6..]).Order());

        // Two grants per run: after four grants the second run continues as new into an idle third run.
        var lockHandle = client.GetWorkflowHandle<LockWorkflow>(lockId);
        await Eventually.TrueAsync(async () => (await FetchRunChainAsync(client, lockId)).Count == 3, because: "lock should reach its third run");
        await lockHandle.SignalAsync(wf => wf.ShutdownAsync());
        Assert.Equal(4, await lockHandle.GetResultAsync<int>());

        var runs = await FetchRunChainAsync(client, lockId);
        Assert.Equal(3, runs.Count);
        var firstRunId = runs[0].Events.First().WorkflowExecutionStartedEventAttributes.OriginalExecutionRunId;
        Assert.All(runs, r => Assert.Equal(firstRunId, r.Events.First().WorkflowExecutionStartedEventAttributes.FirstExecutionRunId));
        Assert.Equal(EventType.WorkflowExecutionContinuedAsNew, runs[0].Events.Last().EventType);
        Assert.Equal(EventType.WorkflowExecutionContinuedAsNew, runs[1].Events.Last().EventType);
        Assert.Equal(EventType.WorkflowExecutionCompleted, runs[2].Events.Last().EventType);

        // The first run was created by signal-with-start: Started, Signaled, then the first task.
        Assert.Equal(
            [EventType.WorkflowExecutionStarted, EventType.WorkflowExecutionSignaled, EventType.WorkflowTaskScheduled],
            runs[0].Events.Take(3).Select(e => e.EventType));

        // Every grant is an external signal to a requester, acknowledged with an id link.
        var granted = runs.SelectMany(r => r.Events).Where(e => e.EventType == EventType.ExternalWorkflowExecutionSignaled)
            .Select(e => e.ExternalWorkflowExecutionSignaledEventAttributes.WorkflowExecution.WorkflowId).ToList();
        Assert.Equal(requesters.Select(h => h.Id).Order(), granted.Order());
        foreach (var run in runs)
        {
            var initiated = run.Events.Where(e => e.EventType == EventType.SignalExternalWorkflowExecutionInitiated).ToDictionary(e => e.EventId);
            foreach (var ack in run.Events.Where(e => e.EventType == EventType.ExternalWorkflowExecutionSignaled))
            {
                var init = initiated[ack.ExternalWorkflowExecutionSignaledEventAttributes.InitiatedEventId];
                Assert.Equal("Granted", init.SignalExternalWorkflowExecutionInitiatedEventAttributes.SignalName);
            }
            await Replay.AssertDeterministicAsync(run, typeof(LockWorkflow));
        }

        foreach (var requester in requesters)
        {
            var history = await requester.FetchHistoryAsync();
            var grantSignal = Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionSignaled);
            Assert.Equal("Granted", grantSignal.WorkflowExecutionSignaledEventAttributes.SignalName);
            Assert.Equal(lockId, grantSignal.WorkflowExecutionSignaledEventAttributes.ExternalWorkflowExecution.WorkflowId);
            Assert.Single(history.Events, e => e.EventType == EventType.ExternalWorkflowExecutionSignaled);
            await Replay.AssertDeterministicAsync(history, typeof(RequesterWorkflow));
        }
    }
}
