using Microsoft.Extensions.Diagnostics.HealthChecks;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;

namespace AgentOrchestrator.Gateway;

/// <summary>Readiness (/readyz): the gateway cannot start or describe runs without Temporal.</summary>
internal sealed class TemporalHealthCheck(ITemporalClient temporal) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            // GetSystemInfo rather than the gRPC health service: every Temporal frontend and the DevServer answer it.
            await temporal.Connection.WorkflowService.GetSystemInfoAsync(new GetSystemInfoRequest(), new RpcOptions { CancellationToken = timeout.Token });
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("Temporal is unreachable.", e);
        }
    }
}
