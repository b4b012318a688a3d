using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;

namespace AgentOrchestrator.ServiceDefaults.Health;

/// <summary>Readiness (/readyz): Temporal answers a cheap call within <see cref="Timeout"/>.</summary>
public sealed class TemporalHealthCheck(ITemporalClient temporal) : IHealthCheck
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
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

public static class TemporalHealthCheckExtensions
{
    /// <summary>
    /// Adds a /readyz check (tag "ready") that Temporal is reachable through the client <paramref name="client"/>
    /// returns (a singleton: the check is created per run). Give each part of a host its own <paramref name="name"/>.
    /// </summary>
    public static IHealthChecksBuilder AddTemporalReadiness(this IHealthChecksBuilder builder, string name, Func<IServiceProvider, ITemporalClient> client)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(client);
        return builder.Add(new HealthCheckRegistration(name, provider => new TemporalHealthCheck(client(provider)), failureStatus: null, tags: ["ready"]));
    }
}
