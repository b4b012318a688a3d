using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentOrchestrator.Gateway.Admin;

public static class TenantAdminServiceCollectionExtensions
{
    /// <summary>The admin API's services: the "admin" authorization policy and the policy-change metric.</summary>
    public static IServiceCollection AddTenantAdmin(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<TenantPolicyChangeMetrics>();
        services.AddAuthorizationBuilder().AddAdminPolicy();
        return services;
    }
}
