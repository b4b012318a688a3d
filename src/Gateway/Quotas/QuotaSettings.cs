using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// The quota configuration in force: validated at construction (start-up) and on every change. A change that does
/// not validate is logged and ignored, so the previous limits stay in force.
/// </summary>
public sealed class QuotaSettings : IDisposable
{
    private readonly IDisposable? _subscription;
    private volatile QuotaOptions _current;

    public QuotaSettings(IOptionsMonitor<QuotaOptions> options, ILogger<QuotaSettings> logger)
    {
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
            QuotaLog.Reloaded(logger, changed.Tenants.Count);
        });
    }

    public QuotaOptions Current => _current;

    public TenantLimits For(string tenant) => TenantLimits.For(_current, tenant);

    public void Dispose() => _subscription?.Dispose();
}
