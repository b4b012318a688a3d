using AgentOrchestrator.Tenancy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// The quota configuration in force: validated at construction (start-up) and on every change. A change that does
/// not validate is logged and ignored, so the previous settings stay in force. A tenant's limits come from its tenant
/// policy, read on every check so configuration reloads and admin changes apply to the next request.
/// </summary>
public sealed class QuotaSettings : IDisposable
{
    private readonly ITenantPolicyProvider _policies;
    private readonly IDisposable? _subscription;
    private volatile QuotaOptions _current;

    public QuotaSettings(IOptionsMonitor<QuotaOptions> options, ITenantPolicyProvider policies, ILogger<QuotaSettings> logger)
    {
        _policies = policies;
        var initial = options.CurrentValue;
        if (QuotaOptionsValidator.Validate(initial) is { Count: > 0 } failures)
        {
            throw new OptionsValidationException(QuotaOptions.SectionName, typeof(QuotaOptions), failures);
        }
        _current = initial;
        _subscription = options.OnChange(changed =>
        {
            if (QuotaOptionsValidator.Validate(changed) is { Count: > 0 } invalid)
            {
                QuotaLog.InvalidReload(logger, string.Join(" ", invalid));
                return;
            }
            _current = changed;
            QuotaLog.Reloaded(logger);
        });
    }

    public QuotaOptions Current => _current;

    public EffectiveTenantPolicy For(string tenant) => _policies.PolicyOf(tenant);

    public void Dispose() => _subscription?.Dispose();
}
