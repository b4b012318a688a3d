using System.Collections.Concurrent;
using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Tenancy;

/// <summary>
/// Configuration plus the runtime overrides last read from the store. The configuration is validated at construction
/// (start-up: an invalid one stops the host) and on every change (an invalid change is logged and ignored, so the
/// previous configuration stays in force: a typo in a live edit must not take the limits down). Reads are lock-free;
/// <see cref="RefreshAsync"/> replaces the override snapshot (the refresher calls it on change notifications and
/// periodically, the admin API right after a change so its own process sees the change at once).
/// </summary>
public sealed class TenantPolicyProvider : ITenantPolicyProvider, IDisposable
{
    private readonly ITenantPolicyStore _store;
    private readonly IDisposable? _subscription;
    private volatile TenancyOptions _options;
    private volatile FrozenDictionary<string, TenantPolicy> _overrides = FrozenDictionary<string, TenantPolicy>.Empty;

    // Resolved policies of the current configuration and overrides: quota checks, hub invocations, model calls and the
    // delivery scheduler read a tenant's policy on every call. Replaced (after the inputs) whenever an input changes.
    private volatile ConcurrentDictionary<string, EffectiveTenantPolicy> _resolved = new(StringComparer.Ordinal);

    public TenantPolicyProvider(IOptionsMonitor<TenancyOptions> options, ITenantPolicyStore store, ILogger<TenantPolicyProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        var initial = options.CurrentValue;
        if (TenantPolicyValidation.Validate(initial) is { Count: > 0 } failures)
        {
            throw new OptionsValidationException(TenancyOptions.SectionName, typeof(TenancyOptions), failures);
        }
        _options = initial;
        _subscription = options.OnChange(changed =>
        {
            if (TenantPolicyValidation.Validate(changed) is { Count: > 0 } invalid)
            {
                TenancyLog.InvalidReload(logger, string.Join(" ", invalid));
                return;
            }
            _options = changed;
            _resolved = new(StringComparer.Ordinal);
            TenancyLog.Reloaded(logger, changed.Plans.Count, changed.Tenants.Count);
        });
    }

    /// <summary>The validated configuration in force.</summary>
    public TenancyOptions Configuration => _options;

    /// <summary>Every runtime override as last read from the store.</summary>
    public IReadOnlyDictionary<string, TenantPolicy> Overrides => _overrides;

    public EffectiveTenantPolicy PolicyOf(string tenant) =>
        _resolved.GetOrAdd(tenant, static (t, provider) => TenantPolicyResolution.Resolve(provider._options, t, provider._overrides.GetValueOrDefault(t)), this);

    /// <summary>The runtime override of a tenant as last read, if any.</summary>
    public TenantPolicy? GetOverride(string tenant) => _overrides.GetValueOrDefault(tenant);

    /// <summary>Re-reads every override from the store; throws (keeping the last ones read) when the store is unreachable.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var all = await _store.GetAllAsync(cancellationToken).ConfigureAwait(false);
        _overrides = all.ToFrozenDictionary(StringComparer.Ordinal);
        _resolved = new(StringComparer.Ordinal);
    }

    public void Dispose() => _subscription?.Dispose();
}
