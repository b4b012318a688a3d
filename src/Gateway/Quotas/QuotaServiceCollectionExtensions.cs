using AgentOrchestrator.Tenancy;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentOrchestrator.Gateway.Quotas;

public static class QuotaServiceCollectionExtensions
{
    /// <summary>
    /// Per-tenant quotas (limits from the tenant policy, <see cref="ITenantPolicyProvider"/>) and node admission from
    /// configuration section "Quotas" (reloaded at runtime), and the gateway's part of the admin usage report: the HTTP checks
    /// (after authorization, for every endpoint requiring the gateway policy), the hub filter and the admission
    /// middleware. New endpoints and hub methods are covered without code; mark run starts with
    /// <see cref="StartsRunAttribute"/>.
    /// </summary>
    public static IServiceCollection AddGatewayQuotas(this IServiceCollection services)
    {
        services.AddOptions<QuotaOptions>().BindConfiguration(QuotaOptions.SectionName);
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<QuotaSettings>();
        services.TryAddSingleton<QuotaMetrics>();
        services.TryAddSingleton<QuotaRejections>();
        services.TryAddSingleton<TenantConnections>();
        services.TryAddSingleton<RunStartGate>();
        services.TryAddSingleton<TenantQuotaHubFilter>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITenantUsageContributor, GatewayTenantUsage>());
        services.Replace(ServiceDescriptor.Singleton<IAuthorizationMiddlewareResultHandler, TenantQuotaAuthorizationResultHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, NodeAdmissionStartupFilter>());
        services.Configure<HubOptions>(hub => hub.AddFilter<TenantQuotaHubFilter>());
        return services;
    }
}
