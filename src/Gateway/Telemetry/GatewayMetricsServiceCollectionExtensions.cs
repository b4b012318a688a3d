using AgentOrchestrator.Gateway.Quotas;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace AgentOrchestrator.Gateway.Telemetry;

public static class GatewayMetricsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="GatewayMetrics"/> and creates it at start-up, so its connection gauge is observable before
    /// anything else asks for it.
    /// </summary>
    public static IServiceCollection AddGatewayMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<TenantConnections>();
        services.TryAddSingleton<GatewayMetrics>();
        services.AddHostedService<GatewayMetricsActivation>();
        return services;
    }

    private sealed class GatewayMetricsActivation(GatewayMetrics metrics) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GC.KeepAlive(metrics);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
