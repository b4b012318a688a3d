using System.Reflection;
using AgentOrchestrator.Contracts;
using Temporalio.Common;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows.Tests.Authoring;

/// <summary>
/// Every shipped flow has a recorded history (from a real run: see tests/Workers.Tests) that must replay against the
/// current code: a change that would break runs in flight fails here, and needs Workflow.Patched (docs/authoring-flows.md).
/// Histories/v1 holds each flow's history recorded before run events went through a local activity
/// (RunEventPublishing.LocalActivityPatch): runs of that version replay down the activity path.
/// </summary>
public sealed class ShippedFlowHistoryTests
{
    public static TheoryData<string, string> ShippedFlows()
    {
        var data = new TheoryData<string, string>();
        foreach (string flow in FlowCatalog.All.Select(f => f.Name))
        {
            data.Add(flow, "");
            data.Add(flow, "v1");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ShippedFlows))]
    public async Task ReplayWorkflowAsync_RecordedHistoryOfShippedFlow_ReplaysWithoutNondeterminism(string flow, string version)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Histories", version, $"{flow}.json");
        Assert.True(File.Exists(path), $"{flow} has no recorded history at {path}");
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
