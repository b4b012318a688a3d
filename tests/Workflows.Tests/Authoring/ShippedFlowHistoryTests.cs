using System.Reflection;
using AgentOrchestrator.Contracts;
using Temporalio.Common;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows.Tests.Authoring;

/// <summary>
/// Every shipped flow has a recorded history (from a real run: see tests/Workers.Tests) that must replay against the
/// current code: a change that would break runs in flight fails here, and needs Workflow.Patched (docs/authoring-flows.md).
/// </summary>
public sealed class ShippedFlowHistoryTests
{
    public static TheoryData<string> ShippedFlows() => new(FlowCatalog.All.Select(f => f.Name));

    [Theory]
    [MemberData(nameof(ShippedFlows))]
    public async Task ReplayWorkflowAsync_RecordedHistoryOfShippedFlow_ReplaysWithoutNondeterminism(string flow)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Histories", $"{flow}.json");
        Assert.True(File.Exists(path), $"{flow} has no recorded history at Histories/{flow}.json");
        WorkflowHistory history = WorkflowHistory.FromJson($"tenant/acme/run/recorded-{flow}", await File.ReadAllTextAsync(path));

        var options = new WorkflowReplayerOptions();
        foreach (Type workflow in FlowWorkflowTypes())
        {
            options.AddWorkflow(workflow);
        }
        WorkflowReplayResult replay = await new WorkflowReplayer(options).ReplayWorkflowAsync(history, throwOnReplayFailure: false);

        Assert.Null(replay.ReplayFailure);
    }

    [Fact]
    public void FlowCatalog_ListsExactlyTheFlowWorkflows()
    {
        IEnumerable<string?> workflowNames = FlowWorkflowTypes().Select(t => t.GetCustomAttribute<WorkflowAttribute>()!.Name).Order(StringComparer.Ordinal);

        Assert.Equal(FlowCatalog.All.Select(f => f.Name).Order(StringComparer.Ordinal), workflowNames);
    }

    // Flows are the workflows started with a RunInput; others (e.g. conversation threads) take their own input.
    private static IEnumerable<Type> FlowWorkflowTypes() =>
        typeof(WriterReviewerWorkflow).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<WorkflowAttribute>() is not null)
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttribute<WorkflowRunAttribute>() is not null
                && m.GetParameters() is [{ ParameterType: var input }] && input == typeof(RunInput)));
}
