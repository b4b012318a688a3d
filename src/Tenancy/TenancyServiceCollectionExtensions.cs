using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Tenancy;

public static class TenancyServiceCollectionExtensions
{
    /// <summary>
    /// Tenant policy for this process: options "Tenancy" (validated at start and on reload), the override store chosen
    /// by Tenancy:Store (logged at start-up), <see cref="ITenantPolicyProvider"/> and the refresher that keeps its
    /// overrides current. Safe to call from several parts of one host (the embedded host composes gateway and worker).
    /// </summary>
    public static IServiceCollection AddTenancy(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(TenantPolicyProvider)))
        {
            return services;
        }
        services.AddOptions<TenancyOptions>().BindConfiguration(TenancyOptions.SectionName)
            .Validate(o => o.Store != TenancyStore.Redis || !string.IsNullOrWhiteSpace(o.Redis), "Tenancy:Redis is required when Tenancy:Store is Redis.")
            .Validate(o => o.RefreshInterval > TimeSpan.Zero, "Tenancy:RefreshInterval must be positive.")
            .ValidateOnStart();
        services.TryAddSingleton<TenancyRedis>();
        services.TryAddSingleton<ITenantPolicyStore>(provider =>
            provider.GetRequiredService<IOptions<TenancyOptions>>().Value.Store == TenancyStore.Redis
                ? throw new NotSupportedException("Tenancy:Store = Redis: the Redis policy store is not built yet.")
                : new InMemoryTenantPolicyStore());
        services.TryAddSingleton<TenantPolicyProvider>();
        services.TryAddSingleton<ITenantPolicyProvider>(provider => provider.GetRequiredService<TenantPolicyProvider>());
        services.AddHostedService<TenantPolicyRefresher>();
        return services;
    }
}

/// <summary>Reads the overrides at start (before the host serves) and then every Tenancy:RefreshInterval.</summary>
internal sealed partial class TenantPolicyRefresher(
    TenantPolicyProvider provider, IOptionsMonitor<TenancyOptions> options, ILogger<TenantPolicyRefresher> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        LogStore(logger, options.CurrentValue.Store);
        await TryRefreshAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.CurrentValue.RefreshInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await TryRefreshAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task TryRefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await provider.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The last overrides read stay in force; configuration still applies.
            LogRefreshFailed(logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant policy: runtime overrides in the {Store} store")]
    private static partial void LogStore(ILogger logger, TenancyStore store);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant policy: could not read runtime overrides; keeping the last ones read")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
