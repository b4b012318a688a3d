using AgentOrchestrator.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;

namespace AgentOrchestrator.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// Serilog (structured, console, properties from the log context such as TenantId/RunId/StepId) and
    /// health checks. Levels come from configuration section "Serilog".
    /// </summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .MinimumLevel.Override("Microsoft.AspNetCore", Serilog.Events.LogEventLevel.Warning)
            .MinimumLevel.Override("MassTransit", Serilog.Events.LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj} {Properties:j}{NewLine}{Exception}"));
        builder.Services.CacheLoggersByCategory();
        builder.Services.AddHealthChecks();
        builder.AddTelemetryMetrics(); // OpenTelemetry metrics, served by MapDefaultEndpoints (Telemetry/Metrics*.cs)
        builder.AddTelemetryTracing();
        return builder;
    }

    /// <summary>
    /// /healthz answers while the process lives; /readyz runs the checks tagged "ready" (dependencies: Temporal, and the
    /// bus through MassTransit's own "ready" check); /metrics (Telemetry:Metrics:Path) serves Prometheus.
    /// </summary>
    public static IEndpointRouteBuilder MapDefaultEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        endpoints.MapTelemetryMetrics();
        return endpoints;
    }
}
