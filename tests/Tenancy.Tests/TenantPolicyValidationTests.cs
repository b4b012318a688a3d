namespace AgentOrchestrator.Tenancy.Tests;

public sealed class TenantPolicyValidationTests
{
    [Fact]
    public void Validate_InvalidFields_ReportsEveryFieldByName()
    {
        var plans = new Dictionary<string, TenantPolicy> { ["pro"] = new() };
        var policy = new TenantPolicy
        {
            Plan = "gold",
            MaxConnections = 0,
            RunStartsPerMinute = double.NaN,
            ModelCostPerHour = -1m,
            FairnessWeight = 0,
            Priority = 6,
            OverBudget = (OverBudgetBehavior)7,
        };

        var errors = TenantPolicyValidation.Validate(policy, plans);

        Assert.Equal(
            ["FairnessWeight", "MaxConnections", "ModelCostPerHour", "OverBudget", "Plan", "Priority", "RunStartsPerMinute"],
            errors.Select(e => e.Field).Order(StringComparer.Ordinal));
        Assert.Empty(TenantPolicyValidation.Validate(new TenantPolicy { Plan = "pro", Priority = 1, FairnessWeight = 0.5, MaxConcurrentRuns = 1 }, plans));
    }

    [Fact]
    public void Validate_Options_ReportsConfigurationPaths()
    {
        var options = new TenancyOptions { Store = TenancyStore.Redis, RefreshInterval = TimeSpan.Zero };
        options.Plans["pro"] = new TenantPolicy { Plan = "pro" };
        options.Tenants["bad/tenant"] = new TenantPolicy();
        options.Tenants["acme"] = new TenantPolicy { MaxConcurrentRuns = 0, Plan = "missing" };

        var failures = TenantPolicyValidation.Validate(options);

        Assert.Contains("Tenancy:Plans:pro:Plan a plan cannot build on another plan.", failures);
        Assert.Contains(failures, f => f.StartsWith("Tenancy:Tenants:bad/tenant: not a valid tenant id", StringComparison.Ordinal));
        Assert.Contains("Tenancy:Tenants:acme:MaxConcurrentRuns must be positive (leave it unset for no limit).", failures);
        Assert.Contains(failures, f => f.StartsWith("Tenancy:Tenants:acme:Plan no plan named 'missing'", StringComparison.Ordinal));
        Assert.Contains("Tenancy:Redis is required when Tenancy:Store is Redis.", failures);
        Assert.Contains("Tenancy:RefreshInterval must be positive.", failures);
        Assert.Equal(6, failures.Count);
    }

    [Theory]
    [InlineData("acme", true)]
    [InlineData("a.b_c-1", true)]
    [InlineData("-leading", false)]
    [InlineData("with/slash", false)]
    [InlineData("", false)]
    public void IsValidTenantId_FollowsTheGatewayIdFormat(string id, bool valid) =>
        Assert.Equal(valid, TenantPolicyValidation.IsValidTenantId(id));
}
