using System.Text.Json.Serialization;

namespace AgentOrchestrator.Tenancy;

/// <summary>What a tenant over its model-token budget experiences.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OverBudgetBehavior>))]
public enum OverBudgetBehavior
{
    /// <summary>The model call waits (durably, in Temporal) until the budget refills; the run says so with an event.</summary>
    Wait,

    /// <summary>The model call fails with a typed quota error, and the run fails with it.</summary>
    Fail,
}

/// <summary>
/// A tenant's plan: every limit the orchestration tier enforces for it. One shape serves the configured default, named
/// plans, per-tenant configuration and runtime overrides set through the admin API; an unset (null) field falls back
/// to the next layer (see <see cref="TenantPolicyResolution"/>), and a limit unset in every layer is unlimited.
/// </summary>
public sealed record TenantPolicy
{
    /// <summary>Named plan (configuration "Tenancy:Plans:&lt;name&gt;") this policy builds on.</summary>
    public string? Plan { get; init; }

    /// <summary>Concurrent realtime connections of the tenant on one gateway process.</summary>
    public int? MaxConnections { get; init; }

    /// <summary>Refill rate of the tenant's run-start token bucket (per gateway process).</summary>
    public double? RunStartsPerMinute { get; init; }

    /// <summary>Capacity of that bucket. Unset: max(1, RunStartsPerMinute / 6).</summary>
    public int? RunStartBurst { get; init; }

    /// <summary>Workflows of the tenant running at once, cluster-wide.</summary>
    public int? MaxConcurrentRuns { get; init; }

    /// <summary>Largest REST request body and largest hub invocation.</summary>
    public int? MaxMessageBytes { get; init; }

    /// <summary>Active streams on one connection.</summary>
    public int? MaxSubscriptionsPerConnection { get; init; }

    /// <summary>Model tokens (prompt + completion) the tenant may consume per minute, across all worker processes.</summary>
    public long? ModelTokensPerMinute { get; init; }

    /// <summary>Model cost (in the price table's currency) the tenant may consume per hour, across all worker processes.</summary>
    public decimal? ModelCostPerHour { get; init; }

    /// <summary>Model calls of the tenant in flight at once, across all worker processes.</summary>
    public int? MaxConcurrentModelCalls { get; init; }

    /// <summary>Share of dispatch and of realtime bandwidth relative to other tenants (Temporal fairness weight). Default 1.</summary>
    public double? FairnessWeight { get; init; }

    /// <summary>Temporal priority key: 1 (highest) to 5 (lowest). Default 3.</summary>
    public int? Priority { get; init; }

    /// <summary>Wait (default) or Fail when over the model-token or cost budget.</summary>
    public OverBudgetBehavior? OverBudget { get; init; }
}
