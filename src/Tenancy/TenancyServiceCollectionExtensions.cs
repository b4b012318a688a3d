using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Tenancy;

/// <summary>
/// Whether every part serving tenants runs in this one process (the embedded host). Only then is an in-memory override
/// store complete; elsewhere AddTenancy warns that admin changes reach this process only.
/// </summary>
public sealed record TenancyProcessMode(bool SingleProcess)
{
    public static TenancyProcessMode Distributed { get; } = new(false);
}

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
        // Validated by TenantPolicyProvider (not IValidateOptions): a failed reload must keep the previous options, not throw.
        services.AddOptions<TenancyOptions>().BindConfiguration(TenancyOptions.SectionName);
        services.TryAddSingleton(TenancyProcessMode.Distributed);
        services.TryAddSingleton<TenancyRedis>();
        services.TryAddSingleton<RedisTenantPolicyStore>();
        services.TryAddSingleton<ITenantPolicyStore>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<TenancyOptions>>().Value;
            return options.Store switch
            {
                TenancyStore.Redis => provider.GetRequiredService<RedisTenantPolicyStore>(),
                TenancyStore.File => new FileTenantPolicyStore(options.FilePath!),
                _ => new InMemoryTenantPolicyStore(),
            };
        });
        services.TryAddSingleton<TenantPolicyProvider>();
        services.TryAddSingleton<ITenantPolicyProvider>(provider => provider.GetRequiredService<TenantPolicyProvider>());
        services.AddHostedService<TenantPolicyRefresher>();
        return services;
    }

    /// <summary>Declares that every part serving tenants runs in this process (the embedded host), see <see cref="TenancyProcessMode"/>.</summary>
    public static IServiceCollection UseSingleProcessTenancy(this IServiceCollection services)
    {
        services.Replace(ServiceDescriptor.Singleton(new TenancyProcessMode(SingleProcess: true)));
        return services;
    }
}

/// <summary>
/// Keeps the provider's overrides current: reads them at start (before the host serves), again at once when the store
/// announces a change, and every Tenancy:RefreshInterval as a backstop (a notice missed while cut off from Redis). An
/// unreachable store keeps the last overrides in force, is logged once per outage and is retried on every tick.
/// </summary>
internal sealed class TenantPolicyRefresher(TenantPolicyProvider provider, ITenantPolicyStore store,
    TenancyProcessMode mode, ILogger<TenantPolicyRefresher> logger) : BackgroundService
{
    private readonly SemaphoreSlim _changed = new(0, 1);
    private bool _subscribed;
    private bool _unreachable;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var configured = provider.Configuration; // validates the configuration while the host starts
        TenancyLog.StoreChoice(logger, configured.Store);
        if (configured.Store is TenancyStore.InMemory or TenancyStore.File && !mode.SingleProcess)
        {
            TenancyLog.LocalStoreOutsideEmbeddedHost(logger, configured.Store);
        }
        await TrySubscribeAsync(cancellationToken).ConfigureAwait(false);
        await TryRefreshAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _changed.WaitAsync(provider.Configuration.RefreshInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await TrySubscribeAsync(stoppingToken).ConfigureAwait(false);
            await TryRefreshAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    private void Changed()
    {
        try
        {
            _changed.Release();
        }
        catch (SemaphoreFullException)
        {
            // A refresh is already due; it will read this change too.
        }
    }

    private async Task TrySubscribeAsync(CancellationToken cancellationToken)
    {
        if (_subscribed || store is not ITenantPolicyChangeNotifications notifications)
        {
            return;
        }
        try
        {
            await notifications.SubscribeAsync(Changed, cancellationToken).ConfigureAwait(false);
            _subscribed = true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Unreachable(e);
        }
    }

    private async Task TryRefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await provider.RefreshAsync(cancellationToken).ConfigureAwait(false);
            if (_unreachable)
            {
                _unreachable = false;
                TenancyLog.StoreRecovered(logger, provider.Overrides.Count);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Unreachable(e);
        }
    }

    private void Unreachable(Exception e)
    {
        if (!_unreachable)
        {
            _unreachable = true;
            TenancyLog.StoreUnreachable(logger, provider.Overrides.Count, e);
        }
    }

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }
}
