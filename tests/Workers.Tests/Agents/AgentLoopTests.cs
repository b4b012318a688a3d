using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workers.Tools;
using AgentOrchestrator.Workflows.Authoring;
using Temporalio.Client;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Workers.Tests.Agents;

/// <summary>The agent loop on a real worker, DevServer and simulator: the simulator scripts the model's tool calls.</summary>
public sealed class AgentLoopTests(AgentPatternsWorkerFixture fixture) : IClassFixture<AgentPatternsWorkerFixture>
{
    private const string Tenant = "acme";

    [Fact]
    public async Task RunAgentAsync_ToolFailsTwiceThenSucceeds_ChargesOnceWithOneIdempotencyKeyAndAnswersFromResult()
    {
        string order = $"A-{Guid.NewGuid():n}";
        WorkflowHandle handle = await fixture.StartFlowAsync(AgentPatternsWorkflow.Name, Tenant,
            $"Charge my order. [[call:{FlakyChargePlugin.ChargeTool} {{\"order\":\"{order}\"}}]]", AgentPatternsWorkflow.ToolLoop);
        string result = await handle.GetResultAsync<string>();
        string runId = RunIdOf(handle);

        var calls = fixture.Ledger.Calls.Where(c => c.Order == order).ToList();
        Assert.Equal(FlakyChargePlugin.FailingAttempts + 1, calls.Count);
        Assert.Single(calls.Select(c => c.Key).Distinct());
        Assert.Equal([1, 2, 3], calls.Select(c => c.Attempt));
        Assert.Equal(order, fixture.Ledger.Charged[calls[0].Key]);
        // The simulator answers a tool result with "Based on <result>".
        Assert.StartsWith($"Based on charged {order}", result, StringComparison.Ordinal);

        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunCompleted), because: "run.completed published");
        IReadOnlyList<RunEvent> events = fixture.Events.EventsOf(runId);
        const string toolStep = "cashier.tool1.1";
        List<RunEvent> toolEvents = events.Where(e => e.Step == toolStep).ToList();
        // Each attempt: (step.retrying,) tool.call, tool.result; the failed attempts' results carry the error.
        Assert.Equal(
            [RunEventTypes.ToolCall, RunEventTypes.ToolResult,
             RunEventTypes.StepRetrying, RunEventTypes.ToolCall, RunEventTypes.ToolResult,
             RunEventTypes.StepRetrying, RunEventTypes.ToolCall, RunEventTypes.ToolResult],
            toolEvents.Select(e => e.Type));
        ToolCallData call = toolEvents[0].Data!.Value.Deserialize<ToolCallData>(JsonSerializerOptions.Web)!;
        Assert.Equal(FlakyChargePlugin.ChargeTool, call.Tool);
        Assert.Equal(order, call.Arguments.GetProperty("order").GetString());
        ToolResultData[] results = toolEvents.Where(e => e.Type == RunEventTypes.ToolResult)
            .Select(e => e.Data!.Value.Deserialize<ToolResultData>(JsonSerializerOptions.Web)!).ToArray();
        Assert.All(results, r => Assert.Equal(call.CallId, r.CallId));
        Assert.Contains("payment service unavailable", results[0].Error, StringComparison.Ordinal);
        Assert.Null(results[0].Result);
        Assert.Equal($"charged {order}", results[2].Result);
        Assert.Null(results[2].Error);

        // Model turn 1 asked for the tool, turn 2 (its own step) answered from the result.
        RunStreams.AssertStepStream(events, "cashier.turn2", attempt: 1);
        Assert.True(RunStreams.PositionOf(events, RunEventTypes.ToolResult, toolStep, attempt: 3)
            < RunStreams.PositionOf(events, RunEventTypes.StepStarted, "cashier.turn2"));
        Assert.Equal(result, events.Single(e => e.Type == RunEventTypes.RunCompleted).Text);
    }

    [Fact]
    public async Task RunAgentAsync_ModelStillCallsToolsAtMaxIterations_FailsTypedWithoutRunningTools()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(AgentPatternsWorkflow.Name, Tenant,
            "Look it up. [[call:Research-search {\"query\":\"durable execution\"}]]", AgentPatternsWorkflow.MaxIterations);
        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync<string>());
        var failure = Assert.IsType<ApplicationFailureException>(failed.InnerException);
        Assert.Equal(AgentFailures.MaxIterationsExceeded, failure.ErrorType);
        Assert.Contains("'hasty'", failure.Message, StringComparison.Ordinal);

        string runId = RunIdOf(handle);
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunFailed), because: "run.failed published");
        IReadOnlyList<RunEvent> events = fixture.Events.EventsOf(runId);
        Assert.Equal(failure.Message, events.Single(e => e.Type == RunEventTypes.RunFailed).Text);
        Assert.DoesNotContain(events, e => e.Type is RunEventTypes.ToolCall or RunEventTypes.ToolResult);
    }

    [Fact]
    public async Task SuperviseAsync_SupervisorDelegates_SpecialistRunsTaskAndSupervisorAnswersFromIt()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(AgentPatternsWorkflow.Name, Tenant,
            "Customer wants money back. [[call:Flow-handoff {\"agent\":\"refunds\",\"task\":\"Refund order B-7\"}]]",
            AgentPatternsWorkflow.Supervisor);
        string result = await handle.GetResultAsync<string>();
        string runId = RunIdOf(handle);
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunCompleted), because: "run.completed published");

        IReadOnlyList<RunEvent> events = fixture.Events.EventsOf(runId);
        string refund = RunStreams.AssertStepStream(events, "refunds", attempt: 1);
        Assert.StartsWith($"Based on {refund}", result, StringComparison.Ordinal);
        Assert.Equal(result, RunStreams.AssertStepStream(events, "lead.turn2", attempt: 1));
        Assert.DoesNotContain(events, e => e.Step == "summarizer");
        // Delegation is handled by the workflow, never run as a tool activity.
        Assert.DoesNotContain(events, e => e.Type == RunEventTypes.ToolCall);
        Assert.True(RunStreams.PositionOf(events, RunEventTypes.StepCompleted, "refunds")
            < RunStreams.PositionOf(events, RunEventTypes.StepStarted, "lead.turn2"));
    }

    [Fact]
    public async Task RunAgentAsync_ModelCallsControlToolOutsideItsPattern_FailsTyped()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(AgentPatternsWorkflow.Name, Tenant,
            "Pass it on. [[call:Flow-handoff {\"agent\":\"refunds\"}]]", AgentPatternsWorkflow.UnhandledControl);
        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync<string>());
        var failure = Assert.IsType<ApplicationFailureException>(failed.InnerException);
        Assert.Equal(AgentFailures.UnhandledControlTool, failure.ErrorType);
        Assert.Contains("'misconfigured' called Flow-handoff", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FanOutAsync_BestEffortWithOneFailingBranch_ReportsFailureAndKeepsTheOthers()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(AgentPatternsWorkflow.Name, Tenant, "Three summaries please.",
            AgentPatternsWorkflow.FanOutBestEffort);
        FanOutResult result = JsonSerializer.Deserialize<FanOutResult>(await handle.GetResultAsync<string>())!;

        Assert.Equal(["summarizer", "summarizer.2"], result.Succeeded.Select(r => r.Step));
        FanOutFailure failure = Assert.Single(result.Failed);
        Assert.Equal("broken", failure.Step);
        Assert.Contains("rejected the request (400)", failure.Error, StringComparison.Ordinal);
        Assert.All(result.Succeeded, r => Assert.False(string.IsNullOrWhiteSpace(r.Text)));
    }

    [Fact]
    public async Task FanOutAsync_FailFastWithOneFailingBranch_FailsRunNamingTheBranch()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(AgentPatternsWorkflow.Name, Tenant, "Three summaries, all or nothing.",
            AgentPatternsWorkflow.FanOutFailFast);
        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync<string>());
        var failure = Assert.IsType<ApplicationFailureException>(failed.InnerException);
        Assert.Equal(AgentFailures.FanOutFailed, failure.ErrorType);
        Assert.Contains("broken (broken)", failure.Message, StringComparison.Ordinal);

        string runId = RunIdOf(handle);
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunFailed), because: "run.failed published");
    }

    private static string RunIdOf(WorkflowHandle handle) => handle.Id[(handle.Id.LastIndexOf('/') + 1)..];
}
