using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Worker;
using Temporalio.Workflows;
using static AgentOrchestrator.DevServer.Tests.ScenarioHelpers;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>Describe, List and Count against executions started with a custom keyword search attribute.</summary>
public sealed class VisibilityTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    private static readonly SearchAttributeKey<string> TenantId = SearchAttributeKey.CreateKeyword("TenantId");

    [Workflow]
    public sealed class TenantWorkflow
    {
        private bool _finish;

        [WorkflowRun]
        public async Task<string> RunAsync(string item)
        {
            await Workflow.WaitConditionAsync(() => _finish);
            return $"processed {item}";
        }

        [WorkflowSignal]
        public Task FinishAsync()
        {
            _finish = true;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task DescribeListCount_ExecutionsWithTenantSearchAttribute_ReturnMatchingExecutions()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var tenantA = $"tenant-a-{Guid.NewGuid()}";
        var tenantB = $"tenant-b-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<TenantWorkflow>());

        Task<WorkflowHandle<TenantWorkflow, string>> StartAsync(string item, string tenant) =>
            client.StartWorkflowAsync((TenantWorkflow wf) => wf.RunAsync(item), new WorkflowOptions($"wf-{item}-{Guid.NewGuid()}", taskQueue)
            {
                TypedSearchAttributes = new SearchAttributeCollection.Builder().Set(TenantId, tenant).ToSearchAttributeCollection(),
            });
        var doneA1 = await StartAsync("a1", tenantA);
        var doneA2 = await StartAsync("a2", tenantA);
        var runningA = await StartAsync("a3", tenantA);
        var doneB = await StartAsync("b1", tenantB);
        foreach (var handle in new[] { doneA1, doneA2, doneB })
        {
            await handle.SignalAsync(wf => wf.FinishAsync());
            await handle.GetResultAsync();
        }
        await WaitForFirstTaskAsync(runningA);

        // Describe: a closed and a running execution.
        var closed = await doneA1.DescribeAsync();
        Assert.Equal(doneA1.Id, closed.Id);
        Assert.Equal(doneA1.ResultRunId, closed.RunId);
        Assert.Equal("TenantWorkflow", closed.WorkflowType);
        Assert.Equal(taskQueue, closed.TaskQueue);
        Assert.Equal(WorkflowExecutionStatus.Completed, closed.Status);
        Assert.NotNull(closed.CloseTime);
        Assert.True(closed.CloseTime >= closed.StartTime);
        Assert.Equal((await doneA1.FetchHistoryAsync()).Events.Count, closed.HistoryLength);
        Assert.Equal(tenantA, closed.TypedSearchAttributes.Get(TenantId));
        var open = await runningA.DescribeAsync();
        Assert.Equal(WorkflowExecutionStatus.Running, open.Status);
        Assert.Null(open.CloseTime);
        Assert.Equal(tenantA, open.TypedSearchAttributes.Get(TenantId));

        // List: this class's server only runs TenantWorkflow here, so the query selects exactly the three completed runs.
        var completed = new List<WorkflowExecution>();
        await foreach (var execution in client.ListWorkflowsAsync("WorkflowType = 'TenantWorkflow' AND ExecutionStatus = 'Completed'"))
        {
            completed.Add(execution);
        }
        Assert.Equal(
            new[] { doneA1.Id, doneA2.Id, doneB.Id }.Order(StringComparer.Ordinal),
            completed.Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.All(completed, e => Assert.Equal(WorkflowExecutionStatus.Completed, e.Status));
        var listedB = Assert.Single(completed, e => e.Id == doneB.Id);
        Assert.Equal(doneB.ResultRunId, listedB.RunId);
        Assert.Equal(tenantB, listedB.TypedSearchAttributes.Get(TenantId));

        var tenantARuns = new List<string>();
        await foreach (var execution in client.ListWorkflowsAsync($"TenantId = '{tenantA}'"))
        {
            tenantARuns.Add(execution.Id);
        }
        Assert.Equal(new[] { doneA1.Id, doneA2.Id, runningA.Id }.Order(StringComparer.Ordinal), tenantARuns.Order(StringComparer.Ordinal));

        // Paging one execution at a time visits each tenant-A run exactly once.
        var paged = new List<string>();
        byte[]? token = null;
        var pages = 0;
        do
        {
            var page = await client.ListWorkflowsPaginatedAsync($"TenantId = '{tenantA}'", token, new() { PageSize = 1 });
            Assert.True(page.Workflows.Count <= 1);
            paged.AddRange(page.Workflows.Select(e => e.Id));
            token = page.NextPageToken;
            Assert.True(++pages <= 4, "paging did not end");
        }
        while (token is { Length: > 0 });
        Assert.Equal(new[] { doneA1.Id, doneA2.Id, runningA.Id }.Order(StringComparer.Ordinal), paged.Order(StringComparer.Ordinal));

        // Count, including by the custom keyword attribute.
        Assert.Equal(3, (await client.CountWorkflowsAsync("WorkflowType = 'TenantWorkflow' AND ExecutionStatus = 'Completed'")).Count);
        Assert.Equal(3, (await client.CountWorkflowsAsync($"TenantId = '{tenantA}'")).Count);
        Assert.Equal(1, (await client.CountWorkflowsAsync($"TenantId = '{tenantA}' AND ExecutionStatus = 'Running'")).Count);
        Assert.Equal(1, (await client.CountWorkflowsAsync($"TenantId = '{tenantB}'")).Count);
        Assert.Equal(0, (await client.CountWorkflowsAsync($"TenantId = 'nobody-{Guid.NewGuid()}'")).Count);
        var grouped = await client.CountWorkflowsAsync($"TenantId = '{tenantA}' GROUP BY ExecutionStatus");
        Assert.Equal(3, grouped.Count);
        var groups = grouped.Groups.ToDictionary(g => Assert.Single(g.GroupValues)?.ToString() ?? string.Empty, g => g.Count);
        Assert.Equal(new Dictionary<string, long> { ["Completed"] = 2, ["Running"] = 1 }, groups);

        await runningA.SignalAsync(wf => wf.FinishAsync());
        await runningA.GetResultAsync();
        foreach (var handle in new[] { doneA1, doneA2, runningA, doneB })
        {
            await Replay.AssertDeterministicAsync(await handle.FetchHistoryAsync(), typeof(TenantWorkflow));
        }
    }
}
