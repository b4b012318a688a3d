using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Tenancy;

/// <summary>
/// Configuration (reloadable through IOptionsMonitor) plus the runtime overrides last read from the store. Reads are
/// lock-free; <see cref="RefreshAsync"/> replaces the override snapshot (the refresher calls it periodically, and the
/// admin API right after a change so its own process sees the change at once).
/// </summary>
public sealed class TenantPolicyProvider(IOptionsMonitor<TenancyOptions> options, ITenantPolicyStore store) : ITenantPolicyProvider
{
    private volatile FrozenDictionary<string, TenantPolicy> _overrides = FrozenDictionary<string, TenantPolicy>.Empty;

    public EffectiveTenantPolicy PolicyOf(string tenant) =>
        TenantPolicyResolution.Resolve(options.CurrentValue, tenant, _overrides.GetValueOrDefault(tenant));

    /// <summary>The runtime override of a tenant as last read, if any.</summary>
    public TenantPolicy? GetOverride(string tenant) => _overrides.GetValueOrDefault(tenant);

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var all = await store.GetAllAsync(cancellationToken).ConfigureAwait(false);
        _overrides = all.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
