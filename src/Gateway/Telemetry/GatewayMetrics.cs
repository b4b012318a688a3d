using System.Diagnostics.Metrics;
using AgentOrchestrator.Gateway.Quotas;

namespace AgentOrchestrator.Gateway.Telemetry;

/// <summary>
/// Gateway instruments on meter "AgentOrchestrator.Gateway": open connections and runs started, by tenant. Tenant tags
/// come from authenticated principals, so they are bounded by the real tenants. The token path's own instruments (token
/// latency, consume lag, deliveries) are the run-event library's (src/RunStreaming/Telemetry), on the same meter.
/// </summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "AgentOrchestrator.Gateway";

    private readonly Counter<long> _runsStarted;

    public GatewayMetrics(IMeterFactory meterFactory, TenantConnections connections)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(connections);
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableUpDownCounter("gateway.connections", () => Observe(connections), "{connection}",
            "Open SignalR connections on this gateway, by tenant");
        _runsStarted = meter.CreateCounter<long>("gateway.runs.started", "{run}",
            "Runs this gateway started in Temporal, by tenant and flow (an idempotent repeat is not counted)");
    }

    /// <summary>A run started in Temporal (not a repeated idempotent start).</summary>
    public void RunStarted(string tenant, string flow) =>
        _runsStarted.Add(1, new KeyValuePair<string, object?>("tenant", tenant), new KeyValuePair<string, object?>("flow", flow));

    private static IEnumerable<Measurement<int>> Observe(TenantConnections connections)
    {
        foreach (var (tenant, count) in connections.Counts())
        {
            yield return new Measurement<int>(count, new KeyValuePair<string, object?>("tenant", tenant));
        }
    }
}
