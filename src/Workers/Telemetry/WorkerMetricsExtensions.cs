using Microsoft.Extensions.DependencyInjection.Extensions;
using Temporalio.Extensions.Hosting;

namespace AgentOrchestrator.Workers.Telemetry;

/// <summary>Registers the worker's metrics: <c>AddWorkerMetrics</c>.</summary>
public static class WorkerMetricsExtensions
{
    /// <summary>
    /// <see cref="WorkerMetrics"/> for the activities, and <see cref="ActivityMetricsInterceptor"/> appended to the
    /// Temporal worker's interceptors (others configured elsewhere are kept).
    /// </summary>
    public static ITemporalWorkerServiceOptionsBuilder AddWorkerMetrics(this ITemporalWorkerServiceOptionsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<WorkerMetrics>();
        builder.ConfigureOptions().Configure<WorkerMetrics>((options, metrics) =>
            options.Interceptors = [.. options.Interceptors ?? [], new ActivityMetricsInterceptor(metrics)]);
        return builder;
    }
}
