using System.Diagnostics.Metrics;

namespace AgentOrchestrator.Gateway.Admin;

/// <summary>Counter tenancy.policy.changes on meter "AgentOrchestrator.Tenancy", tagged tenant and operation (set, remove).</summary>
public sealed class TenantPolicyChangeMetrics
{
    public const string MeterName = "AgentOrchestrator.Tenancy";
    public const string ChangesCounter = "tenancy.policy.changes";

    private readonly Counter<long> _changes;

    public TenantPolicyChangeMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _changes = meters.Create(MeterName).CreateCounter<long>(ChangesCounter, "{change}", "Runtime tenant policy overrides set or removed through the admin API.");
    }

    public void Changed(string tenant, string operation) =>
        _changes.Add(1, new KeyValuePair<string, object?>("tenant", tenant), new KeyValuePair<string, object?>("operation", operation));
}
