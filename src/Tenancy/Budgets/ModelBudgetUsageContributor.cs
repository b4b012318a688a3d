namespace AgentOrchestrator.Tenancy.Budgets;

/// <summary>
/// Fills the admin usage report with the model budget's view of a tenant: tokens in the last minute, cost in the last
/// hour, calls in flight and waits so far, read from the shared store (so every process reports the same figures).
/// </summary>
internal sealed class ModelBudgetUsageContributor(ModelBudget budget) : ITenantUsageContributor
{
    public async ValueTask ContributeAsync(TenantUsageReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        BudgetUsage usage = await budget.UsageAsync(report.Tenant, cancellationToken).ConfigureAwait(false);
        report.ModelTokensLastMinute = usage.TokensLastMinute;
        report.ModelCostLastHour = usage.CostLastHour;
        report.ModelCallsInFlight = usage.CallsInFlight;
        report.BudgetWaits = usage.Waits;
    }
}
