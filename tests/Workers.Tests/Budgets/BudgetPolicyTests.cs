using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workers.Budgets;
using AgentOrchestrator.Workflows;
using Temporalio.Client;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Workers.Tests.Budgets;

/// <summary>Tenants whose policy is Fail: over budget, the run fails with a typed quota error and the model is never called.</summary>
public sealed class BudgetPolicyTests : IAsyncLifetime
{
    private BudgetWorkers _workers = null!;

    public async Task InitializeAsync() => _workers = await BudgetWorkers.StartAsync(1, new Dictionary<string, string?>
    {
        // Smaller than one call's estimate (prompt / 4 + the 256-token completion allowance).
        ["Tenancy:Tenants:tokens-fail:ModelTokensPerMinute"] = "50",
        ["Tenancy:Tenants:tokens-fail:OverBudget"] = "Fail",
        ["Tenancy:Tenants:cost-fail:ModelCostPerHour"] = "0.001",
        ["Tenancy:Tenants:cost-fail:OverBudget"] = "Fail",
        ["Tenancy:Prices:sim-1:PromptPer1K"] = "0.01",
        ["Tenancy:Prices:sim-1:CompletionPer1K"] = "0.03",
    }, redis: false);

    [Theory]
    [InlineData("tokens-fail", ModelCallGuard.TokenQuotaFailure)]
    [InlineData("cost-fail", ModelCallGuard.CostQuotaFailure)]
    public async Task RunAsync_OverBudgetWithFailPolicy_FailsWithTypedQuotaErrorWithoutCallingTheModel(string tenant, string failureType)
    {
        long requestsBefore = (await _workers.SimulatorStatsAsync()).Requests;
        WorkflowHandle<WriterReviewerWorkflow, string> handle = await _workers.StartRunAsync(tenant, "Write about budgets.");
        string runId = BudgetWorkers.RunIdOf(handle);

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        var activityFailure = Assert.IsType<ActivityFailureException>(failure.InnerException);
        var quota = Assert.IsType<ApplicationFailureException>(activityFailure.InnerException);
        Assert.Equal(failureType, quota.ErrorType);
        await Eventually.TrueAsync(() => _workers.Events.Has(runId, RunEventTypes.RunFailed), because: "run.failed published");

        RunEvent failed = _workers.Events.EventsOf(runId).Single(e => e.Type == RunEventTypes.RunFailed);
        Assert.StartsWith($"[{failureType}]", failed.Text, StringComparison.Ordinal);
        // Refused before the call: one attempt, nothing streamed, no request reached the model.
        Assert.DoesNotContain(_workers.Events.EventsOf(runId), e => e.Type is RunEventTypes.StepStarted or RunEventTypes.Token or RunEventTypes.StepRetrying);
        Assert.Equal(requestsBefore, (await _workers.SimulatorStatsAsync()).Requests);
    }

    [Fact]
    public async Task RunAsync_TenantWithoutLimits_CompletesAndItsUsageIsReported()
    {
        WorkflowHandle<WriterReviewerWorkflow, string> handle = await _workers.StartRunAsync("unlimited", "Write about plenty.");

        Assert.False(string.IsNullOrEmpty(await handle.GetResultAsync()));

        Tenancy.Budgets.BudgetUsage usage = await _workers.BudgetOf(1).UsageAsync("unlimited", CancellationToken.None);
        Assert.True(usage.TokensLastMinute > 0, "the two calls' usage is recorded");
        Assert.Equal(0, usage.CallsInFlight);
        Assert.Equal(0, usage.Waits);
    }

    public async Task DisposeAsync() => await _workers.DisposeAsync();
}
