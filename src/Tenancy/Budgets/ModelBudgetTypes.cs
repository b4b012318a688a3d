namespace AgentOrchestrator.Tenancy.Budgets;

/// <summary>Why a model call may not start now. The wire names are those of step.waiting's "reason".</summary>
public enum BudgetReason
{
    None,
    TokenBudget,
    CostBudget,
    ModelConcurrency,
}

public static class BudgetReasons
{
    public const string TokenBudget = "token_budget";
    public const string CostBudget = "cost_budget";
    public const string ModelConcurrency = "model_concurrency";
    public const string ModelRateLimited = "model_rate_limited";

    public static string Name(BudgetReason reason) => reason switch
    {
        BudgetReason.TokenBudget => TokenBudget,
        BudgetReason.CostBudget => CostBudget,
        BudgetReason.ModelConcurrency => ModelConcurrency,
        _ => "none",
    };
}

/// <summary>The tenant's limits for one admission, read from its policy at that moment (so changes apply at once). Null: unlimited.</summary>
public sealed record BudgetLimits(long? TokensPerMinute, decimal? CostPerHour, int? MaxConcurrentCalls, OverBudgetBehavior OverBudget)
{

    public static BudgetLimits Of(EffectiveTenantPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new(policy.ModelTokensPerMinute, policy.ModelCostPerHour, policy.MaxConcurrentModelCalls, policy.OverBudget);
    }

    /// <summary>The part a single process grants on its own while the shared store is unreachable.</summary>
    public BudgetLimits Scaled(double share) => this with
    {
        TokensPerMinute = TokensPerMinute is { } t ? Math.Max(1, (long)(t * share)) : null,
        CostPerHour = CostPerHour is { } c ? c * (decimal)share : null,
        MaxConcurrentCalls = MaxConcurrentCalls is { } m ? Math.Max(1, (int)(m * share)) : null,
    };
}

/// <summary>
/// One model call asking for budget. <paramref name="CallId"/> names the call across its attempts (workflow run and
/// activity id), so a call that was told to wait finds its reservation again on the next attempt.
/// </summary>
public sealed record ModelCallRequest(string Tenant, string CallId, string Model, long EstimatedTokens, decimal EstimatedCost);

public enum AdmissionOutcome
{
    /// <summary>The call may start; its tokens are drawn and it holds a slot until it settles.</summary>
    Admitted,

    /// <summary>The call must wait until <see cref="Admission.RetryAfter"/>; what it reserved stays reserved.</summary>
    Wait,

    /// <summary>Over budget under the Fail policy: nothing was drawn.</summary>
    Rejected,
}

/// <summary>A store's answer to an admission.</summary>
public readonly record struct Admission(AdmissionOutcome Outcome, BudgetReason Reason, TimeSpan RetryAfter)
{
    public static Admission Admitted { get; } = new(AdmissionOutcome.Admitted, BudgetReason.None, TimeSpan.Zero);
}

/// <summary>A tenant's usage as a budget store knows it.</summary>
public readonly record struct BudgetUsage(long TokensLastMinute, decimal CostLastHour, int CallsInFlight, long Waits);

/// <summary>
/// Shared budget state: token and cost buckets (which may go into debt, so a waiting call keeps its place), concurrency
/// leases, usage counters. Every operation is atomic. Implementations: Redis (shared by all processes) and in-process.
/// </summary>
public interface IModelBudgetStore
{
    Task<Admission> AdmitAsync(ModelCallRequest request, BudgetLimits limits, CancellationToken cancellationToken);

    /// <summary>Corrects the buckets by actual minus estimate, records the usage and frees the call's slot.</summary>
    Task SettleAsync(ModelCallRequest request, BudgetLimits limits, long actualTokens, decimal actualCost, CancellationToken cancellationToken);

    /// <summary>Extends the call's slot lease (a long stream must not lose it).</summary>
    Task RenewAsync(ModelCallRequest request, CancellationToken cancellationToken);

    Task<BudgetUsage> UsageAsync(string tenant, CancellationToken cancellationToken);
}
