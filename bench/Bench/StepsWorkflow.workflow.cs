using Temporalio.Activities;
using Temporalio.Workflows;

namespace AgentOrchestrator.Bench;

/// <summary>Runs N activities one after another; the benchmark's unit of work.</summary>
[Workflow]
public sealed class StepsWorkflow
{
    [WorkflowRun]
    public async Task<int> RunAsync(int steps)
    {
        var value = 0;
        for (var i = 0; i < steps; i++)
        {
            value = await Workflow.ExecuteActivityAsync(() => Increment(value), new ActivityOptions { StartToCloseTimeout = TimeSpan.FromSeconds(60) });
        }
        return value;
    }

    [Activity]
    public static int Increment(int value) => value + 1;
}
