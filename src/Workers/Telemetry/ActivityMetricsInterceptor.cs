using AgentOrchestrator.Contracts;
using Temporalio.Activities;
using Temporalio.Exceptions;
using Temporalio.Worker.Interceptors;

namespace AgentOrchestrator.Workers.Telemetry;

/// <summary>
/// Counts every activity's retries (an attempt after the first) and failures on <see cref="WorkerMetrics"/>, for all
/// activities of the worker without code in each. The tenant is read from the workflow id (<see cref="RunWorkflowIds"/>).
/// </summary>
public sealed class ActivityMetricsInterceptor(WorkerMetrics metrics) : IWorkerInterceptor
{
    /// <summary>Wraps the worker's activity inbound interceptor to count retries and failures.</summary>
    public ActivityInboundInterceptor InterceptActivity(ActivityInboundInterceptor nextInterceptor) => new Inbound(nextInterceptor, metrics);

    private sealed class Inbound(ActivityInboundInterceptor next, WorkerMetrics metrics) : ActivityInboundInterceptor(next)
    {
        public override async Task<object?> ExecuteActivityAsync(ExecuteActivityInput input)
        {
            var context = ActivityExecutionContext.Current;
            var info = context.Info;
            var tenant = RunWorkflowIds.TryParse(info.WorkflowId ?? string.Empty, out var tenantId, out _) ? tenantId : WorkerMetrics.UnknownTenant;
            if (info.Attempt > 1)
            {
                metrics.ActivityRetried(info.ActivityType, tenant);
            }
            try
            {
                return await base.ExecuteActivityAsync(input);
            }
            catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
            {
                throw; // canceled (run canceled, worker shutting down): not a failure of the activity
            }
            catch (Exception e) when (e is not CompleteAsyncException)
            {
                metrics.ActivityFailed(info.ActivityType, tenant);
                throw;
            }
        }
    }
}
