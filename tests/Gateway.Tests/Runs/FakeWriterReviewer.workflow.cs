using AgentOrchestrator.Contracts;
using Temporalio.Workflows;

namespace AgentOrchestrator.Gateway.Tests.Runs;

/// <summary>Stands in for the real flow so a run can complete and the gateway can report its result.</summary>
[Workflow(Flows.WriterReviewer)]
public sealed class FakeWriterReviewer
{
    [WorkflowRun]
    public Task<string> RunAsync(RunInput input) => Task.FromResult($"reviewed: {input.Input} ({input.TenantId}/{input.RunId})");
}
