using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace AgentOrchestrator.ServiceDefaults.Telemetry;

public static partial class MetricsExtensions
{
    /// <summary>Every meter of the project is named "AgentOrchestrator.&lt;Part&gt;"; this exports them all.</summary>
    public const string ProjectMeters = "AgentOrchestrator.*";

    /// <summary>
    /// OpenTelemetry metrics (configuration section "Telemetry:Metrics"), exported in Prometheus format: every
    /// "AgentOrchestrator.*" meter, ASP.NET Core's own (HTTP, Kestrel, SignalR connections), MassTransit's and the .NET
    /// runtime's. <see cref="MapTelemetryMetrics"/> serves them. The choice is logged at start-up.
    /// </summary>
    public static IHostApplicationBuilder AddTelemetryMetrics(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<MetricsChoiceLogger>();
        // Read now: whether a meter provider exists is decided at registration.
        var options = builder.Configuration.GetSection(MetricsOptions.SectionName).Get<MetricsOptions>() ?? new MetricsOptions();
        if (!options.Enabled)
        {
            return builder;
        }
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ProjectMeters)
            .AddMeter("Microsoft.AspNetCore.*")
            .AddMeter("MassTransit")
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        return builder;
    }

    /// <summary>Maps the Prometheus scraping endpoint at Telemetry:Metrics:Path, unless metrics are disabled.</summary>
    public static IEndpointRouteBuilder MapTelemetryMetrics(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (options.Enabled)
        {
            endpoints.MapPrometheusScrapingEndpoint(options.Path);
        }
        return endpoints;
    }

    private sealed partial class MetricsChoiceLogger(IOptions<MetricsOptions> options, ILogger<MetricsChoiceLogger> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (options.Value.Enabled)
            {
                MetricsServed(logger, options.Value.Path, ProjectMeters);
            }
            else
            {
                MetricsDisabled(logger);
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Information, Message = "Metrics: Prometheus format at {Path} (meters {Meters}, ASP.NET Core, MassTransit, runtime)")]
        private static partial void MetricsServed(ILogger logger, string path, string meters);

        [LoggerMessage(Level = LogLevel.Information, Message = "Metrics: disabled (Telemetry:Metrics:Enabled=false); no metrics endpoint")]
        private static partial void MetricsDisabled(ILogger logger);
    }
}
