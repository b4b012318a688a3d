using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AgentOrchestrator.ServiceDefaults.Telemetry;

public static class TracingServiceCollectionExtensions
{
    /// <summary>The ActivitySources every part's spans come from; our own follow the "AgentOrchestrator.*" convention.</summary>
    public static readonly IReadOnlyList<string> Sources =
    [
        "AgentOrchestrator.*",
        // MassTransit 8's built-in instrumentation (publish, receive, consume), named by DiagnosticHeaders.DefaultListenerName.
        "MassTransit",
        // Hub method invocations: each is its own root span, so a run started over the hub starts its own trace.
        "Microsoft.AspNetCore.SignalR.Server",
    ];

    /// <summary>
    /// OpenTelemetry tracing ("Telemetry:Tracing"): ASP.NET Core and HttpClient instrumentation plus <see cref="Sources"/>,
    /// exported to the console, to an OTLP collector, or nowhere, as configured; the choice is logged at start-up. Context
    /// crosses Temporal through <see cref="TemporalTracing"/>
    /// (its interceptors are registered where Temporal clients and workers are built)
    /// and the bus through MassTransit's message headers.
    /// </summary>
    public static IHostApplicationBuilder AddTelemetryTracing(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<TracingOptions>().BindConfiguration(TracingOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.ParsedOtlpProtocol is not null, "Telemetry:Tracing:OtlpProtocol must be \"grpc\" or \"http/protobuf\".")
            .Validate(o => o.OtlpEndpoint is null || (o.OtlpEndpoint.IsAbsoluteUri && o.OtlpEndpoint.Scheme is "http" or "https"),
                "Telemetry:Tracing:OtlpEndpoint must be an absolute http(s) URL, e.g. http://collector:4317.")
            .ValidateOnStart();

        // The exporter is part of the provider's shape, so it is chosen from configuration now; the options above
        // validate the same values at start-up, so a bad value stops the host with a message naming the key.
        var options = builder.Configuration.GetSection(TracingOptions.SectionName).Get<TracingOptions>() ?? new TracingOptions();
        var exporter = options.Exporter ?? (builder.Environment.IsDevelopment() ? TracingExporter.Console : TracingExporter.None);
        builder.Services.AddSingleton(new TracingChoice(exporter, Defaulted: options.Exporter is null));
        builder.Services.AddHostedService<TracingChoiceLogger>();
        if (exporter == TracingExporter.None)
        {
            // No provider, so no listener: spans cost nothing (an in-process ActivityListener, as in tests, still sees them).
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName))
            .WithTracing(tracing =>
            {
                tracing
                    .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(Math.Clamp(options.SamplingRatio, 0.0, 1.0))))
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddSource([.. Sources]);
                if (exporter == TracingExporter.Console)
                {
                    // Batched, unlike AddConsoleExporter's per-span synchronous write, which would sit on every token's path.
                    tracing.AddProcessor(new BatchActivityExportProcessor(new ConsoleActivityExporter(new ConsoleExporterOptions())));
                }
                else
                {
                    tracing.AddOtlpExporter(otlp => ConfigureOtlp(otlp, options));
                }
            });
        return builder;
    }

    private static void ConfigureOtlp(OtlpExporterOptions otlp, TracingOptions options)
    {
        var protocol = options.ParsedOtlpProtocol ?? TracingOtlpProtocol.Grpc;
        otlp.Protocol = protocol == TracingOtlpProtocol.HttpProtobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        if (options.OtlpEndpoint is { } endpoint)
        {
            // The OTLP exporter uses a configured HTTP endpoint verbatim (no signal path appended), so the path is added here.
            otlp.Endpoint = protocol == TracingOtlpProtocol.HttpProtobuf && !endpoint.AbsolutePath.EndsWith("/v1/traces", StringComparison.Ordinal)
                ? new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/v1/traces")
                : endpoint;
        }
    }

    internal sealed record TracingChoice(TracingExporter Exporter, bool Defaulted);

    /// <summary>Says at start-up where traces go: never chosen silently.</summary>
    private sealed class TracingChoiceLogger(TracingChoice choice, IOptions<TracingOptions> options, ILogger<TracingChoiceLogger> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var settings = options.Value;
            var source = choice.Defaulted ? "default for this environment; set Telemetry:Tracing:Exporter to change" : "Telemetry:Tracing:Exporter";
            switch (choice.Exporter)
            {
                case TracingExporter.Otlp:
                    var endpoint = settings.OtlpEndpoint is { } uri ? $"{uri.Scheme}://{uri.Host}:{uri.Port}{uri.AbsolutePath}" : "(OpenTelemetry default)";
                    TracingLog.Otlp(logger, endpoint, settings.OtlpProtocol, settings.SamplingRatio);
                    break;
                case TracingExporter.Console:
                    TracingLog.Console(logger, settings.SamplingRatio, source);
                    break;
                default:
                    TracingLog.Off(logger, source);
                    break;
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

internal static partial class TracingLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Traces: OTLP to {Endpoint} over {Protocol}, sampling ratio {SamplingRatio}")]
    public static partial void Otlp(ILogger logger, string endpoint, string protocol, double samplingRatio);

    [LoggerMessage(Level = LogLevel.Information, Message = "Traces: console exporter, sampling ratio {SamplingRatio} ({Source})")]
    public static partial void Console(ILogger logger, double samplingRatio, string source);

    [LoggerMessage(Level = LogLevel.Information, Message = "Traces: not exported ({Source})")]
    public static partial void Off(ILogger logger, string source);
}
