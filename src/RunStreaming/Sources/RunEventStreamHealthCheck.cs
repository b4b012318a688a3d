using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentOrchestrator.RunStreaming.Sources;

/// <summary>/readyz: a gateway that has not caught up with the stream would serve resumes with gaps, so it takes no traffic.</summary>
internal sealed class RunEventStreamHealthCheck(RunEventStreamState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.IsReady
            ? HealthCheckResult.Healthy($"run-event stream caught up (offset {state.LastOffset})")
            : HealthCheckResult.Unhealthy("run-event stream disconnected or still warming up"));
}
