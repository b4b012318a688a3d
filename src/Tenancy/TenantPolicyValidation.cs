using System.Text.RegularExpressions;

namespace AgentOrchestrator.Tenancy;

/// <summary>One invalid field of a policy: <see cref="Field"/> is the <see cref="TenantPolicy"/> property name.</summary>
public readonly record struct TenantPolicyError(string Field, string Message);

/// <summary>
/// The rules every policy layer obeys, whether it comes from configuration (checked at start and on reload) or from the
/// admin API (checked before anything is stored): limits positive, fairness weight positive, priority 1 to 5, a named
/// plan configured, plans not building on other plans, tenant ids in the gateway's id format.
/// </summary>
public static partial class TenantPolicyValidation
{
    public const int MinPriority = 1;
    public const int MaxPriority = 5;

    // Tenant ids become parts of workflow ids ("tenant/{tenant}/run/{run}"): no '/', and a bounded length.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex TenantIdPattern();

    public static bool IsValidTenantId(string? id) => id is not null && TenantIdPattern().IsMatch(id);

    /// <summary>The field errors of one policy layer; <paramref name="plans"/> are the configured plan names.</summary>
    public static List<TenantPolicyError> Validate(TenantPolicy policy, IReadOnlyDictionary<string, TenantPolicy> plans, bool isPlan = false)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(plans);
        var errors = new List<TenantPolicyError>();
        if (policy.Plan is { } plan)
        {
            if (isPlan)
            {
                errors.Add(new(nameof(TenantPolicy.Plan), "a plan cannot build on another plan."));
            }
            else if (!plans.ContainsKey(plan))
            {
                errors.Add(new(nameof(TenantPolicy.Plan), $"no plan named '{plan}' is configured (Tenancy:Plans)."));
            }
        }
        Positive(nameof(TenantPolicy.MaxConnections), policy.MaxConnections, errors);
        Positive(nameof(TenantPolicy.RunStartsPerMinute), policy.RunStartsPerMinute, errors);
        Positive(nameof(TenantPolicy.RunStartBurst), policy.RunStartBurst, errors);
        Positive(nameof(TenantPolicy.MaxConcurrentRuns), policy.MaxConcurrentRuns, errors);
        Positive(nameof(TenantPolicy.MaxMessageBytes), policy.MaxMessageBytes, errors);
        Positive(nameof(TenantPolicy.MaxSubscriptionsPerConnection), policy.MaxSubscriptionsPerConnection, errors);
        Positive(nameof(TenantPolicy.ModelTokensPerMinute), policy.ModelTokensPerMinute, errors);
        Positive(nameof(TenantPolicy.ModelCostPerHour), (double?)policy.ModelCostPerHour, errors);
        Positive(nameof(TenantPolicy.MaxConcurrentModelCalls), policy.MaxConcurrentModelCalls, errors);
        if (policy.FairnessWeight is { } weight && !(weight > 0 && double.IsFinite(weight)))
        {
            errors.Add(new(nameof(TenantPolicy.FairnessWeight), "must be a positive number."));
        }
        if (policy.Priority is { } priority && priority is < MinPriority or > MaxPriority)
        {
            errors.Add(new(nameof(TenantPolicy.Priority), $"must be from {MinPriority} (highest) to {MaxPriority} (lowest)."));
        }
        if (policy.OverBudget is { } overBudget && !Enum.IsDefined(overBudget))
        {
            errors.Add(new(nameof(TenantPolicy.OverBudget), "must be Wait or Fail."));
        }
        return errors;
    }

    /// <summary>Every failure of the "Tenancy" configuration, as "Tenancy:Tenants:acme:MaxConcurrentRuns must be positive ...".</summary>
    public static List<string> Validate(TenancyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void Layer(string at, TenantPolicy policy, bool isPlan)
        {
            foreach (var error in Validate(policy, options.Plans, isPlan))
            {
                failures.Add($"{at}:{error.Field} {error.Message}");
            }
        }

        Layer($"{TenancyOptions.SectionName}:Default", options.Default, isPlan: false);
        foreach (var (name, plan) in options.Plans)
        {
            Layer($"{TenancyOptions.SectionName}:Plans:{name}", plan, isPlan: true);
        }
        foreach (var (tenant, policy) in options.Tenants)
        {
            if (!IsValidTenantId(tenant))
            {
                failures.Add($"{TenancyOptions.SectionName}:Tenants:{tenant}: not a valid tenant id (1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit).");
            }
            Layer($"{TenancyOptions.SectionName}:Tenants:{tenant}", policy, isPlan: false);
        }
        if (options.Store == TenancyStore.File && string.IsNullOrWhiteSpace(options.FilePath))
        {
            failures.Add($"{TenancyOptions.SectionName}:FilePath is required when {TenancyOptions.SectionName}:Store is File.");
        }
        if (options.Store == TenancyStore.Redis && string.IsNullOrWhiteSpace(options.Redis))
        {
            failures.Add($"{TenancyOptions.SectionName}:Redis is required when {TenancyOptions.SectionName}:Store is Redis.");
        }
        if (options.RefreshInterval <= TimeSpan.Zero)
        {
            failures.Add($"{TenancyOptions.SectionName}:RefreshInterval must be positive.");
        }
        return failures;
    }

    private static void Positive(string field, double? value, List<TenantPolicyError> errors)
    {
        if (value is { } v && !(v > 0 && double.IsFinite(v)))
        {
            errors.Add(new(field, "must be positive (leave it unset for no limit)."));
        }
    }
}
