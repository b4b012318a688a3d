using AgentOrchestrator.Tenancy;
using Microsoft.Extensions.Logging;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// What the gateway knows of a tenant's usage: its connections to this node (MaxConnections is per node), its running
/// runs cluster-wide (the concurrent-run quota's Temporal visibility count) and the requests this node refused since
/// it started.
/// </summary>
internal sealed class GatewayTenantUsage(TenantConnections connections, RunStartGate starts, QuotaRejections rejections,
    ILogger<GatewayTenantUsage> logger) : ITenantUsageContributor
{
    public async ValueTask ContributeAsync(TenantUsageReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        report.Connections = connections.Count(report.Tenant);
        report.Rejections = rejections.CountOf(report.Tenant);
        try
        {
            report.RunsRunning = (int)await starts.CountRunningAsync(report.Tenant, cancellationToken);
        }
        catch (RpcException e)
        {
            // Left unset (null: not measured) rather than reported as zero.
            QuotaLog.UsageCountFailed(logger, report.Tenant, e.Message);
        }
    }
}
