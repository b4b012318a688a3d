using AgentOrchestrator.Contracts;
using Temporalio.Workflows;

namespace AgentOrchestrator.Gateway.Tests.Runs;

/// <summary>A one-activity flow: the activity records which tenant's run it belongs to, in the order it was dispatched.</summary>
[Workflow(Name)]
public sealed class DispatchProbe
{
    public const string Name = "dispatch-probe";

    [WorkflowRun]
    public Task RunAsync(RunInput input) =>
        Workflow.ExecuteActivityAsync((DispatchRecorder recorder) => recorder.Record(input.TenantId),
            new ActivityOptions { StartToCloseTimeout = TimeSpan.FromSeconds(60) });
}
