namespace AgentOrchestrator.Tenancy;

/// <summary>
/// The limits in force for one tenant after resolving every layer. Null limits are unlimited; weight, priority and
/// over-budget behaviour always have a value.
/// </summary>
public sealed record EffectiveTenantPolicy(
    string Tenant,
    string? Plan,
    int? MaxConnections,
    double? RunStartsPerMinute,
    int? RunStartBurst,
    int? MaxConcurrentRuns,
    int? MaxMessageBytes,
    int? MaxSubscriptionsPerConnection,
    long? ModelTokensPerMinute,
    decimal? ModelCostPerHour,
    int? MaxConcurrentModelCalls,
    double FairnessWeight,
    int Priority,
    OverBudgetBehavior OverBudget)
{
    public const double DefaultFairnessWeight = 1.0;
    public const int DefaultPriority = 3;
}

/// <summary>
/// Layering, most specific first, field by field: runtime override, the tenant's configuration, the named plan (the
/// override's plan if it names one, else the configured one), the configured default.
/// </summary>
public static class TenantPolicyResolution
{
    public static EffectiveTenantPolicy Resolve(TenancyOptions options, string tenant, TenantPolicy? runtimeOverride)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configured = options.Tenants.GetValueOrDefault(tenant);
        var planName = runtimeOverride?.Plan ?? configured?.Plan ?? options.Default.Plan;
        var plan = planName is null ? null : options.Plans.GetValueOrDefault(planName);
        TenantPolicy?[] layers = [runtimeOverride, configured, plan, options.Default];

        T? First<T>(Func<TenantPolicy, T?> field) where T : struct
        {
            foreach (var layer in layers)
            {
                if (layer is not null && field(layer) is { } value)
                {
                    return value;
                }
            }
            return null;
        }

        return new EffectiveTenantPolicy(
            tenant,
            planName,
            First(p => p.MaxConnections),
            First(p => p.RunStartsPerMinute),
            First(p => p.RunStartBurst),
            First(p => p.MaxConcurrentRuns),
            First(p => p.MaxMessageBytes),
            First(p => p.MaxSubscriptionsPerConnection),
            First(p => p.ModelTokensPerMinute),
            First(p => p.ModelCostPerHour),
            First(p => p.MaxConcurrentModelCalls),
            First(p => p.FairnessWeight) ?? EffectiveTenantPolicy.DefaultFairnessWeight,
            First(p => p.Priority) ?? EffectiveTenantPolicy.DefaultPriority,
            First(p => p.OverBudget) ?? OverBudgetBehavior.Wait);
    }
}
