using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Worker;
using Temporalio.Worker.Interceptors;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>A worker interceptor counts workflow executions, handled signals, started children and child signals.</summary>
public sealed class CounterInterceptorTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    public sealed class CountingInterceptor : IWorkerInterceptor
    {
        public ConcurrentDictionary<string, int> Executions { get; } = new();

        public ConcurrentDictionary<string, int> SignalsHandled { get; } = new();

        public ConcurrentDictionary<string, int> ChildrenStarted { get; } = new();

        public ConcurrentDictionary<string, int> ChildSignalsSent { get; } = new();

        public WorkflowInboundInterceptor InterceptWorkflow(WorkflowInboundInterceptor nextInterceptor) => new Inbound(this, nextInterceptor);

        private static void Bump(ConcurrentDictionary<string, int> counter)
        {
            // Replayed steps already ran once; counting them again would double up after a cache eviction.
            if (!Workflow.Unsafe.IsReplaying)
            {
                counter.AddOrUpdate(Workflow.Info.WorkflowId, 1, (_, n) => n + 1);
            }
        }

        private sealed class Inbound(CountingInterceptor root, WorkflowInboundInterceptor next) : WorkflowInboundInterceptor(next)
        {
            public override void Init(WorkflowOutboundInterceptor outbound) => base.Init(new Outbound(root, outbound));

            public override Task<object?> ExecuteWorkflowAsync(ExecuteWorkflowInput input)
            {
                Bump(root.Executions);
                return base.ExecuteWorkflowAsync(input);
            }

            public override Task HandleSignalAsync(HandleSignalInput input)
            {
                Bump(root.SignalsHandled);
                return base.HandleSignalAsync(input);
            }
        }

        private sealed class Outbound(CountingInterceptor root, WorkflowOutboundInterceptor next) : WorkflowOutboundInterceptor(next)
        {
            public override Task<ChildWorkflowHandle<TWorkflow, TResult>> StartChildWorkflowAsync<TWorkflow, TResult>(StartChildWorkflowInput input)
            {
                Bump(root.ChildrenStarted);
                return base.StartChildWorkflowAsync<TWorkflow, TResult>(input);
            }

            public override Task SignalChildWorkflowAsync(SignalChildWorkflowInput input)
            {
                Bump(root.ChildSignalsSent);
                return base.SignalChildWorkflowAsync(input);
            }
        }
    }

    [Workflow]
    public sealed class ChildWorkflow
    {
        private string? _suffix;

        [WorkflowRun]
        public async Task<string> RunAsync(string name)
        {
            await Workflow.WaitConditionAsync(() => _suffix is not null);
            return $"{name}{_suffix}";
        }

        [WorkflowSignal]
        public Task NudgeAsync(string suffix)
        {
            _suffix = suffix;
            return Task.CompletedTask;
        }
    }

    [Workflow]
    public sealed class ParentWorkflow
    {
        private string? _suffix;

        [WorkflowRun]
        public async Task<string[]> RunAsync(int children)
        {
            await Workflow.WaitConditionAsync(() => _suffix is not null);
            var handles = new List<ChildWorkflowHandle<ChildWorkflow, string>>();
            for (var i = 0; i < children; i++)
            {
                var name = $"child-{i}";
                handles.Add(await Workflow.StartChildWorkflowAsync((ChildWorkflow wf) => wf.RunAsync(name),
                    new ChildWorkflowOptions { Id = $"{Workflow.Info.WorkflowId}/{name}" }));
            }
            foreach (var handle in handles)
            {
                await handle.SignalAsync(wf => wf.NudgeAsync(_suffix!));
            }
            return await Workflow.WhenAllAsync(handles.Select(h => h.GetResultAsync()));
        }

        [WorkflowSignal]
        public Task GoAsync(string suffix)
        {
            _suffix = suffix;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task WorkerInterceptor_ParentWithChildren_CountsExecutionsSignalsAndChildren()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var parentId = $"wf-{Guid.NewGuid()}";
        var counter = new CountingInterceptor();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
        {
            Interceptors = [counter],
        }.AddWorkflow<ParentWorkflow>().AddWorkflow<ChildWorkflow>());

        var handle = await client.StartWorkflowAsync((ParentWorkflow wf) => wf.RunAsync(2), new WorkflowOptions(parentId, taskQueue));
        await handle.SignalAsync(wf => wf.GoAsync("!"));
        Assert.Equal(["child-0!", "child-1!"], await handle.GetResultAsync());

        string[] childIds = [$"{parentId}/child-0", $"{parentId}/child-1"];
        Assert.Equal(1, counter.Executions[parentId]);
        Assert.Equal(1, counter.SignalsHandled[parentId]);
        Assert.Equal(2, counter.ChildrenStarted[parentId]);
        Assert.Equal(2, counter.ChildSignalsSent[parentId]);
        foreach (var childId in childIds)
        {
            Assert.Equal(1, counter.Executions[childId]);
            Assert.Equal(1, counter.SignalsHandled[childId]);
            Assert.False(counter.ChildrenStarted.ContainsKey(childId));
        }

        var history = await handle.FetchHistoryAsync();
        var events = history.Events.ToList();
        var initiated = events.Where(e => e.EventType == EventType.StartChildWorkflowExecutionInitiated).ToList();
        Assert.Equal(childIds, initiated.Select(e => e.StartChildWorkflowExecutionInitiatedEventAttributes.WorkflowId));
        var childStarted = events.Where(e => e.EventType == EventType.ChildWorkflowExecutionStarted).ToList();
        Assert.Equal(initiated.Select(e => e.EventId), childStarted.Select(e => e.ChildWorkflowExecutionStartedEventAttributes.InitiatedEventId));
        var signalled = events.Where(e => e.EventType == EventType.ExternalWorkflowExecutionSignaled)
            .Select(e => e.ExternalWorkflowExecutionSignaledEventAttributes.WorkflowExecution.WorkflowId);
        Assert.Equal(childIds, signalled);
        var childCompleted = events.Where(e => e.EventType == EventType.ChildWorkflowExecutionCompleted).ToList();
        Assert.Equal(childIds.Order(), childCompleted.Select(e => e.ChildWorkflowExecutionCompletedEventAttributes.WorkflowExecution.WorkflowId).Order());
        Assert.All(childCompleted, e => Assert.Contains(
            childStarted, s => s.EventId == e.ChildWorkflowExecutionCompletedEventAttributes.StartedEventId
                && s.ChildWorkflowExecutionStartedEventAttributes.InitiatedEventId == e.ChildWorkflowExecutionCompletedEventAttributes.InitiatedEventId));
        await Replay.AssertDeterministicAsync(history, typeof(ParentWorkflow), typeof(ChildWorkflow));

        foreach (var childId in childIds)
        {
            var childHistory = await client.GetWorkflowHandle(childId).FetchHistoryAsync();
            var started = childHistory.Events.First().WorkflowExecutionStartedEventAttributes;
            Assert.Equal(parentId, started.ParentWorkflowExecution.WorkflowId);
            Assert.Equal("Nudge", Assert.Single(childHistory.Events, e => e.EventType == EventType.WorkflowExecutionSignaled)
                .WorkflowExecutionSignaledEventAttributes.SignalName);
            await Replay.AssertDeterministicAsync(childHistory, typeof(ChildWorkflow));
        }
    }
}
