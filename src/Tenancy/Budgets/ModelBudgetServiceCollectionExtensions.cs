using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Tenancy.Budgets;

public static class ModelBudgetServiceCollectionExtensions
{
    /// <summary>
    /// The per-tenant model budget (<see cref="ModelBudget"/>): options "Tenancy:Budgets" and "Tenancy:Prices"
    /// (validated at start), the store chosen by Tenancy:Store (Redis: shared by every process; InMemory: this process),
    /// its metrics, and the usage contributor for the admin usage endpoint. Adds <see cref="TenancyServiceCollectionExtensions.AddTenancy"/>
    /// too. Idempotent: the worker and the gateway (which only reports usage) may both call it in one host.
    /// </summary>
    public static IServiceCollection AddTenantModelBudgets(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddTenancy(configuration);
        if (services.Any(d => d.ServiceType == typeof(ModelBudget)))
        {
            return services;
        }
        services.AddOptions<ModelBudgetOptions>().BindConfiguration(ModelBudgetOptions.SectionName)
            .Validate(o => o.CompletionAllowance >= 0, "Tenancy:Budgets:CompletionAllowance must not be negative.")
            .Validate(o => o.DegradedShare is > 0 and <= 1, "Tenancy:Budgets:DegradedShare must be in (0, 1].")
            .Validate(o => o.SlotLease >= TimeSpan.FromSeconds(3), "Tenancy:Budgets:SlotLease must be at least 3 seconds.")
            .Validate(o => o.SlotRetryDelay > TimeSpan.Zero, "Tenancy:Budgets:SlotRetryDelay must be positive.")
            .Validate(o => o.ReservationGrace > TimeSpan.Zero, "Tenancy:Budgets:ReservationGrace must be positive.")
            .Validate(o => o.StoreProbeInterval > TimeSpan.Zero, "Tenancy:Budgets:StoreProbeInterval must be positive.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.KeyPrefix), "Tenancy:Budgets:KeyPrefix is required.")
            .ValidateOnStart();
        services.AddOptions<ModelPriceOptions>()
            .Configure<IConfiguration>((o, c) => c.GetSection(ModelPriceOptions.SectionName).Bind(o.Models))
            .Validate(o => o.Models.Values.All(p => p.PromptPer1K >= 0 && p.CompletionPer1K >= 0), "Tenancy:Prices must not be negative.")
            .ValidateOnStart();
        services.TryAddSingleton<IOptionsChangeTokenSource<ModelPriceOptions>>(
            provider => new ConfigurationChangeTokenSource<ModelPriceOptions>(provider.GetRequiredService<IConfiguration>()));

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<ModelBudgetMetrics>();
        services.TryAddSingleton<IModelBudgetStore>(provider =>
            provider.GetRequiredService<IOptions<TenancyOptions>>().Value.Store == TenancyStore.Redis
                ? ActivatorUtilities.CreateInstance<RedisModelBudgetStore>(provider)
                : ActivatorUtilities.CreateInstance<InMemoryModelBudgetStore>(provider));
        services.TryAddSingleton<ModelBudget>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITenantUsageContributor, ModelBudgetUsageContributor>());
        return services;
    }
}
