using Temporalio.Common;
using Temporalio.Worker;

namespace AgentOrchestrator.DevServer.Tests;

internal static class Replay
{
    /// <summary>Replays a fetched history through the SDK's replayer and fails on non-determinism.</summary>
    public static async Task AssertDeterministicAsync(WorkflowHistory history, params Type[] workflows)
    {
        var options = new WorkflowReplayerOptions();
        foreach (var workflow in workflows)
        {
            options.AddWorkflow(workflow);
        }
        var result = await new WorkflowReplayer(options).ReplayWorkflowAsync(history, throwOnReplayFailure: false);
        Assert.Null(result.ReplayFailure);
    }
}
