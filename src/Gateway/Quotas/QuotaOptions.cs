namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// The gateway's own quota settings (configuration section "Quotas"): the node's connection admission rate and how
/// tenant quotas behave. The per-tenant limits themselves are tenant policy ("Tenancy:Default", "Tenancy:Plans",
/// "Tenancy:Tenants:&lt;t&gt;" and runtime overrides, see AgentOrchestrator.Tenancy). Read through IOptionsMonitor: a
/// changed configuration file applies to the next request without a restart.
/// </summary>
public sealed class QuotaOptions
{
    public const string SectionName = "Quotas";

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

public sealed class NodeAdmissionOptions
{
    /// <summary>Refill rate of the node's connection token bucket (negotiate, WebSocket and SSE connects).</summary>
    public double? ConnectionsPerSecond { get; set; }

    /// <summary>Capacity of that bucket. Unset: max(1, ConnectionsPerSecond).</summary>
    public int? ConnectionBurst { get; set; }
}

/// <summary>
/// Checked at start-up (a failure stops the host) and on every reload (a failure keeps the previous settings and logs
/// an error: a typo in a live edit must not take the quotas, or the gateway, down).
/// </summary>
internal static class QuotaOptionsValidator
{
    public static List<string> Validate(QuotaOptions options)
    {
        var failures = new List<string>();
        Positive("Quotas:Node:ConnectionsPerSecond", options.Node.ConnectionsPerSecond, failures);
        Positive("Quotas:Node:ConnectionBurst", options.Node.ConnectionBurst, failures);
        if (options.ConcurrentRunsCacheTtl < TimeSpan.Zero)
        {
            failures.Add("Quotas:ConcurrentRunsCacheTtl must not be negative.");
        }
        Positive("Quotas:RetryAfterSeconds", options.RetryAfterSeconds, failures);
        return failures;
    }

    private static void Positive(string at, double? value, List<string> failures)
    {
        if (value is { } v && !(v > 0))
        {
            failures.Add($"{at} must be positive (leave it unset for no limit).");
        }
    }
}
