namespace AgentOrchestrator.Tenancy.Tests;

public sealed class TenantPolicyResolutionTests
{
    private static TenancyOptions Options()
    {
        var options = new TenancyOptions
        {
            Default = new TenantPolicy { MaxConnections = 10, RunStartsPerMinute = 60, MaxConcurrentRuns = 5, ModelTokensPerMinute = 1000 },
        };
        options.Plans["pro"] = new TenantPolicy { MaxConcurrentRuns = 50, ModelTokensPerMinute = 100_000, FairnessWeight = 3, Priority = 2 };
        options.Plans["free"] = new TenantPolicy { MaxConcurrentRuns = 1, OverBudget = OverBudgetBehavior.Fail };
        options.Tenants["acme"] = new TenantPolicy { Plan = "pro", MaxConnections = 100 };
        return options;
    }

    [Fact]
    public void Resolve_FieldByField_OverrideThenTenantThenPlanThenDefault()
    {
        var runtimeOverride = new TenantPolicy { MaxConcurrentRuns = 7 };

        var policy = TenantPolicyResolution.Resolve(Options(), "acme", runtimeOverride);

        Assert.Equal("pro", policy.Plan);
        Assert.Equal(7, policy.MaxConcurrentRuns); // override
        Assert.Equal(100, policy.MaxConnections); // tenant configuration
        Assert.Equal(100_000, policy.ModelTokensPerMinute); // plan
        Assert.Equal(3, policy.FairnessWeight); // plan
        Assert.Equal(2, policy.Priority); // plan
        Assert.Equal(60, policy.RunStartsPerMinute); // default
        Assert.Null(policy.MaxMessageBytes); // unset everywhere: unlimited
        Assert.Equal(OverBudgetBehavior.Wait, policy.OverBudget); // built-in
    }

    [Fact]
    public void Resolve_OverrideNamesAnotherPlan_ThatPlanReplacesTheConfiguredOne()
    {
        var policy = TenantPolicyResolution.Resolve(Options(), "acme", new TenantPolicy { Plan = "free" });

        Assert.Equal("free", policy.Plan);
        Assert.Equal(1, policy.MaxConcurrentRuns);
        Assert.Equal(OverBudgetBehavior.Fail, policy.OverBudget);
        Assert.Equal(100, policy.MaxConnections); // the tenant's own configuration still sits above the plan
        Assert.Equal(1000, policy.ModelTokensPerMinute); // "pro" no longer applies: the default does
        Assert.Equal(EffectiveTenantPolicy.DefaultFairnessWeight, policy.FairnessWeight);
    }

    [Fact]
    public void Resolve_UnknownTenantWithoutOverride_GetsTheDefault()
    {
        var policy = TenantPolicyResolution.Resolve(Options(), "someone-else", runtimeOverride: null);

        Assert.Null(policy.Plan);
        Assert.Equal(10, policy.MaxConnections);
        Assert.Equal(5, policy.MaxConcurrentRuns);
        Assert.Equal(EffectiveTenantPolicy.DefaultPriority, policy.Priority);
    }
}
