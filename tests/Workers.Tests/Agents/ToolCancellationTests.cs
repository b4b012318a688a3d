using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Temporalio.Client;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Workers.Tests.Agents;

/// <summary>A run canceled while one of its tools runs: the tool's Semantic Kernel function sees its token fire.</summary>
public sealed class ToolCancellationTests(AgentPatternsWorkerFixture fixture) : IClassFixture<AgentPatternsWorkerFixture>
{
    [Fact]
    public async Task CancelAsync_WhileToolRuns_ToolObservesCancellationAndRunCanceledPublished()
    {
        string job = $"job-{Guid.NewGuid():n}";
        WorkflowHandle handle = await fixture.StartFlowAsync(AgentPatternsWorkflow.Name, "acme",
            $"Wait for the export. [[call:{SlowToolPlugin.WaitTool} {{\"job\":\"{job}\"}}]]", AgentPatternsWorkflow.SlowTool);
        string runId = handle.Id[(handle.Id.LastIndexOf('/') + 1)..];
        await Eventually.TrueAsync(() => fixture.SlowTool.Started.ContainsKey(job), because: "the slow tool is running");

        await handle.CancelAsync();

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync<string>());
        Assert.IsType<CanceledFailureException>(failure.InnerException);
        await Eventually.TrueAsync(() => fixture.SlowTool.Canceled.ContainsKey(job), because: "the tool's cancellation token fired");
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunCanceled), because: "run.canceled published");
        IReadOnlyList<RunEvent> events = fixture.Events.EventsOf(runId);
        Assert.Single(events, e => e.Type == RunEventTypes.ToolCall && e.Step == "waiter.tool1.1");
        Assert.DoesNotContain(events, e => e.Type is RunEventTypes.ToolResult or RunEventTypes.RunCompleted or RunEventTypes.RunFailed);
    }
}
