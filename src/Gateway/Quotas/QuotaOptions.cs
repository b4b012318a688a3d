using AgentOrchestrator.Gateway.Auth;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// Per-tenant quotas and the node's connection admission rate (configuration section "Quotas"). Read through
/// IOptionsMonitor: a changed configuration file applies to the next request without a restart. An unset limit is
/// unlimited.
/// </summary>
public sealed class QuotaOptions
{
    public const string SectionName = "Quotas";

    /// <summary>Limits of every tenant without its own entry, and of every limit a tenant entry leaves unset.</summary>
    public TenantQuotaOptions Default { get; set; } = new();

    /// <summary>Per-tenant overrides, keyed by tenant id ("Quotas:Tenants:acme:MaxConnections").</summary>
    public Dictionary<string, TenantQuotaOptions> Tenants { get; } = new(StringComparer.Ordinal);

    /// <summary>Connection admission of this gateway process, whatever the tenant.</summary>
    public NodeAdmissionOptions Node { get; set; } = new();

    /// <summary>
    /// How long a tenant's running-run count from Temporal visibility is reused. Starts admitted by this node in
    /// that window are added to it; starts on other nodes are not, so cluster-wide the limit can be exceeded by the
    /// starts other nodes admit within this window.
    /// </summary>
    public TimeSpan ConcurrentRunsCacheTtl { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Retry-After for limits freed at an unknown time (connections, concurrent runs).</summary>
    public int RetryAfterSeconds { get; set; } = 5;
}

public sealed class TenantQuotaOptions
{
    /// <summary>Concurrent SignalR connections of the tenant on one gateway process (per node, not cluster-wide).</summary>
    public int? MaxConnections { get; set; }

    /// <summary>Refill rate of the tenant's run-start token bucket (per gateway process).</summary>
    public double? RunStartsPerMinute { get; set; }

    /// <summary>Capacity of that bucket: starts allowed at once after a quiet period. Unset: max(1, RunStartsPerMinute / 6).</summary>
    public int? RunStartBurst { get; set; }

    /// <summary>Workflows of the tenant running at once, cluster-wide (Temporal visibility).</summary>
    public int? MaxConcurrentRuns { get; set; }

    /// <summary>Largest REST request body and largest hub invocation (UTF-8 bytes of its arguments).</summary>
    public int? MaxMessageBytes { get; set; }

    /// <summary>Active streams (Subscribe and any other streaming hub method) on one connection.</summary>
    public int? MaxSubscriptionsPerConnection { get; set; }
}

public sealed class NodeAdmissionOptions
{
    /// <summary>Refill rate of the node's connection token bucket (negotiate, WebSocket and SSE connects).</summary>
    public double? ConnectionsPerSecond { get; set; }

    /// <summary>Capacity of that bucket. Unset: max(1, ConnectionsPerSecond).</summary>
    public int? ConnectionBurst { get; set; }
}

/// <summary>The limits that apply to one tenant: its entry, falling back to the default entry per limit.</summary>
public readonly record struct TenantLimits(
    int? MaxConnections,
    double? RunStartsPerMinute,
    int? RunStartBurst,
    int? MaxConcurrentRuns,
    int? MaxMessageBytes,
    int? MaxSubscriptionsPerConnection)
{
    public static TenantLimits For(QuotaOptions options, string tenant)
    {
        var fallback = options.Default;
        var own = options.Tenants.GetValueOrDefault(tenant) ?? fallback;
        return new TenantLimits(
            own.MaxConnections ?? fallback.MaxConnections,
            own.RunStartsPerMinute ?? fallback.RunStartsPerMinute,
            own.RunStartBurst ?? fallback.RunStartBurst,
            own.MaxConcurrentRuns ?? fallback.MaxConcurrentRuns,
            own.MaxMessageBytes ?? fallback.MaxMessageBytes,
            own.MaxSubscriptionsPerConnection ?? fallback.MaxSubscriptionsPerConnection);
    }
}

/// <summary>
/// Checked at start-up (a failure stops the host) and on every reload (a failure keeps the previous limits and logs
/// an error: a typo in a live edit must not take the quotas, or the gateway, down).
/// </summary>
internal static class QuotaOptionsValidator
{
    public static List<string> Validate(QuotaOptions options)
    {
        var failures = new List<string>();
        ValidateTenant("Quotas:Default", options.Default, failures);
        foreach (var (tenant, limits) in options.Tenants)
        {
            if (!TenantIds.IsValid(tenant))
            {
                failures.Add($"Quotas:Tenants:{tenant}: not a valid tenant id.");
            }
            ValidateTenant($"Quotas:Tenants:{tenant}", limits, failures);
        }
        Positive("Quotas:Node:ConnectionsPerSecond", options.Node.ConnectionsPerSecond, failures);
        Positive("Quotas:Node:ConnectionBurst", options.Node.ConnectionBurst, failures);
        if (options.ConcurrentRunsCacheTtl < TimeSpan.Zero)
        {
            failures.Add("Quotas:ConcurrentRunsCacheTtl must not be negative.");
        }
        Positive("Quotas:RetryAfterSeconds", options.RetryAfterSeconds, failures);
        return failures;
    }

    private static void ValidateTenant(string at, TenantQuotaOptions limits, List<string> failures)
    {
        Positive($"{at}:MaxConnections", limits.MaxConnections, failures);
        Positive($"{at}:RunStartsPerMinute", limits.RunStartsPerMinute, failures);
        Positive($"{at}:RunStartBurst", limits.RunStartBurst, failures);
        Positive($"{at}:MaxConcurrentRuns", limits.MaxConcurrentRuns, failures);
        Positive($"{at}:MaxMessageBytes", limits.MaxMessageBytes, failures);
        Positive($"{at}:MaxSubscriptionsPerConnection", limits.MaxSubscriptionsPerConnection, failures);
    }

    private static void Positive(string at, double? value, List<string> failures)
    {
        if (value is { } v && !(v > 0))
        {
            failures.Add($"{at} must be positive (leave it unset for no limit).");
        }
    }
}
