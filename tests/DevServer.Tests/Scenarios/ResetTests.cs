using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Workflows;
using static AgentOrchestrator.DevServer.Tests.ScenarioHelpers;
using WorkflowExecution = Temporalio.Api.Common.V1.WorkflowExecution;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>ResetWorkflowExecution to a workflow task (the Temporal UI's reset action), with and without reapplied signals.</summary>
public sealed class ResetTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class CollectingWorkflow
    {
        private readonly List<string> _items = [];
        private bool _finish;

        [WorkflowRun]
        public async Task<List<string>> RunAsync(bool startWithTimer)
        {
            if (startWithTimer)
            {
                _ = Workflow.DelayAsync(TimeSpan.FromDays(1));
            }
            await Workflow.WaitConditionAsync(() => _finish);
            return _items;
        }

        [WorkflowSignal]
        public Task AddAsync(string item)
        {
            _items.Add(item);
            return Task.CompletedTask;
        }

        [WorkflowSignal]
        public Task FinishAsync()
        {
            _finish = true;
            return Task.CompletedTask;
        }

        [WorkflowQuery]
        public List<string> Items => _items;
    }

    [Theory]
    [InlineData(false, new[] { "a", "b" })]
    [InlineData(true, new string[0])]
    public async Task Reset_ToTheFirstWorkflowTask_StartsANewRunWithTheLaterSignalsUnlessExcluded(bool excludeSignals, string[] expected)
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<CollectingWorkflow>());
        await using var _ = worker;
        var handle = await client.StartWorkflowAsync((CollectingWorkflow wf) => wf.RunAsync(false), new WorkflowOptions($"reset-{Guid.NewGuid()}", taskQueue));
        await WaitForFirstTaskAsync(handle);
        await handle.SignalAsync(wf => wf.AddAsync("a"));
        await handle.SignalAsync(wf => wf.AddAsync("b"));
        await Eventually.TrueAsync(async () => (await handle.QueryAsync(wf => wf.Items)).Count == 2, TimeSpan.FromSeconds(60), "signals not handled");
        var firstCompleted = (await handle.FetchHistoryAsync()).Events.First(e => e.EventType == EventType.WorkflowTaskCompleted);

        var reset = await client.WorkflowService.ResetWorkflowExecutionAsync(new ResetWorkflowExecutionRequest
        {
            Namespace = server.Namespace,
            WorkflowExecution = new WorkflowExecution { WorkflowId = handle.Id, RunId = handle.ResultRunId },
            WorkflowTaskFinishEventId = firstCompleted.EventId,
            Reason = "try again",
            RequestId = Guid.NewGuid().ToString(),
            ResetReapplyExcludeTypes = { excludeSignals ? [ResetReapplyExcludeType.Signal] : [] },
        });

        Assert.Equal(WorkflowExecutionStatus.Terminated, (await client.GetWorkflowHandle(handle.Id, handle.ResultRunId).DescribeAsync()).Status);
        var newRun = client.GetWorkflowHandle<CollectingWorkflow>(handle.Id, reset.RunId);
        var history = (await newRun.FetchHistoryAsync()).Events.ToList();
        var failed = history[3];
        Assert.Equal(EventType.WorkflowTaskFailed, failed.EventType);
        Assert.Equal(WorkflowTaskFailedCause.ResetWorkflow, failed.WorkflowTaskFailedEventAttributes.Cause);
        Assert.Equal(handle.ResultRunId, failed.WorkflowTaskFailedEventAttributes.BaseRunId);
        Assert.Equal(reset.RunId, failed.WorkflowTaskFailedEventAttributes.NewRunId);
        Assert.Equal(expected.Length, history.Count(e => e.EventType == EventType.WorkflowExecutionSignaled));
        await Eventually.TrueAsync(async () => (await newRun.QueryAsync(wf => wf.Items)).SequenceEqual(expected),
            TimeSpan.FromSeconds(60), "the new run did not see the reapplied signals");
        await newRun.SignalAsync(wf => wf.FinishAsync());
        Assert.Equal(expected, await newRun.GetResultAsync<List<string>>());
    }

    [Fact]
    public async Task Reset_ToAPointWithAPendingTimer_IsRefusedAndChangesNothing()
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<CollectingWorkflow>());
        await using var _ = worker;
        var handle = await client.StartWorkflowAsync((CollectingWorkflow wf) => wf.RunAsync(true), new WorkflowOptions($"reset-{Guid.NewGuid()}", taskQueue));
        await WaitForFirstTaskAsync(handle);
        await handle.SignalAsync(wf => wf.AddAsync("a"));
        await WaitForEventAsync(handle, EventType.WorkflowExecutionSignaled, TimeSpan.FromSeconds(60), "signal not written");
        await Eventually.TrueAsync(async () => (await handle.FetchHistoryAsync()).Events.Count(e => e.EventType == EventType.WorkflowTaskCompleted) == 2,
            TimeSpan.FromSeconds(60), "signal task not completed");
        var lastCompleted = (await handle.FetchHistoryAsync()).Events.Last(e => e.EventType == EventType.WorkflowTaskCompleted);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.WorkflowService.ResetWorkflowExecutionAsync(new ResetWorkflowExecutionRequest
        {
            Namespace = server.Namespace,
            WorkflowExecution = new WorkflowExecution { WorkflowId = handle.Id },
            WorkflowTaskFinishEventId = lastCompleted.EventId,
            RequestId = Guid.NewGuid().ToString(),
        }));

        Assert.Equal(RpcException.StatusCode.InvalidArgument, error.Code);
        Assert.Contains("timers", error.Message, StringComparison.Ordinal);
        Assert.Equal(WorkflowExecutionStatus.Running, (await handle.DescribeAsync()).Status);
        Assert.Equal(handle.ResultRunId, (await client.GetWorkflowHandle(handle.Id).DescribeAsync()).RunId);
        await handle.TerminateAsync("done");
    }
}
