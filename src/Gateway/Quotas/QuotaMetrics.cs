using System.Diagnostics.Metrics;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>Counter gateway.quota.rejections on meter "AgentOrchestrator.Gateway", tagged tenant and reason.</summary>
public sealed class QuotaMetrics
{
    public const string MeterName = "AgentOrchestrator.Gateway";
    public const string RejectionsCounter = "gateway.quota.rejections";

    /// <summary>The tenant tag of node admission rejections: they happen before authentication.</summary>
    public const string UnknownTenant = "unknown";

    private readonly Counter<long> _rejections;

    public QuotaMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _rejections = meters.Create(MeterName).CreateCounter<long>(RejectionsCounter, "{rejection}", "Requests refused by a quota or the node admission rate.");
    }

    public void Rejected(string tenant, QuotaRejection rejection) =>
        _rejections.Add(1, new KeyValuePair<string, object?>("tenant", tenant), new KeyValuePair<string, object?>("reason", rejection.Reason));
}
