using AgentOrchestrator.ServiceDefaults.Health;
using AgentOrchestrator.ServiceDefaults.Telemetry;
using MassTransit;
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

    /// <summary>
    /// MassTransit on the transport chosen in configuration section "Bus" (in-memory by default, RabbitMQ
    /// when configured). The choice is logged at start-up, never made silently.
    /// </summary>
    public static IServiceCollection AddMessageBus(this IServiceCollection services, IConfiguration configuration,
        Action<IBusRegistrationConfigurator>? configureConsumers = null)
    {
        var options = configuration.GetSection(MessageBusOptions.SectionName).Get<MessageBusOptions>() ?? new MessageBusOptions();
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        services.AddOptions<MessageRetryOptions>().BindConfiguration(MessageRetryOptions.SectionName).ValidateDataAnnotations()
            .Validate(r => r.MinInterval >= TimeSpan.Zero && r.MaxInterval >= r.MinInterval, "Bus:Retry:MaxInterval must be at least MinInterval (both not negative).")
            .Validate(r => r.RedeliveryMinInterval >= TimeSpan.Zero && r.RedeliveryMaxInterval >= r.RedeliveryMinInterval,
                "Bus:Retry:RedeliveryMaxInterval must be at least RedeliveryMinInterval (both not negative).")
            .ValidateOnStart();
        services.AddOptions<RunEventStreamOptions>().BindConfiguration(RunEventStreamOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddMetrics();
        services.TryAddSingleton<BusFaultObserver>();
        services.AddReceiveObserver<BusFaultObserver>();
        services.AddMassTransit(bus =>
        {
            configureConsumers?.Invoke(bus);
            bus.AddConfigureEndpointsCallback((context, _, endpoint) => UseRetryThenRedelivery(endpoint,
                context.GetRequiredService<Microsoft.Extensions.Options.IOptions<MessageRetryOptions>>().Value));
            if (options.Transport == BusTransport.RabbitMq)
            {
                var uri = options.RabbitMqUri ?? throw new InvalidOperationException("Bus:RabbitMqUri is required when Bus:Transport is RabbitMq.");
                bus.UsingRabbitMq((context, rabbit) =>
                {
                    // Explicit although it is MassTransit's default: a publish completes only once the broker has
                    // taken the message, so a publish the broker refused fails its caller (the activity), which
                    // Temporal retries, instead of vanishing.
                    rabbit.Host(uri, host => host.PublisherConfirmation = true);
                    rabbit.ConfigureEndpoints(context);
                });
            }
            else
            {
                bus.UsingInMemory((context, memory) => memory.ConfigureEndpoints(context));
            }
        });
        // Start-up completes only once the bus is connected and its queues are bound, so nothing published
        // right after start is dropped for want of a binding; an unreachable broker fails start-up clearly.
        services.AddOptions<MassTransitHostOptions>().Configure(host =>
        {
            host.WaitUntilStarted = true;
            host.StartTimeout = TimeSpan.FromSeconds(60);
        });
        services.AddHostedService<BusChoiceLogger>();
        if (options.Transport == BusTransport.RabbitMq)
        {
            services.AddHealthChecks().AddRabbitMqReadiness(options.RabbitMqUri!); // MassTransit's check misses a publish-only bus
        }
        return services;
    }

    /// <summary>
    /// Consumers acknowledge only after they return. A failure is retried at once with exponential backoff; then the
    /// message is redelivered in process after longer, growing delays; a message that still fails goes to the
    /// endpoint's _error queue (MassTransit's default), counted and logged by <see cref="BusFaultObserver"/>. Both
    /// stages are one retry schedule: MassTransit does not nest retry filters, and broker-side delayed redelivery needs
    /// a plugin Debian's broker lacks (docs/replay-tier.md). The message stays unacknowledged throughout, so a crash
    /// hands it back to the broker.
    /// </summary>
    private static void UseRetryThenRedelivery(IReceiveEndpointConfigurator endpoint, MessageRetryOptions retry)
    {
        var schedule = Exponential(retry.RetryLimit, retry.MinInterval, retry.MaxInterval)
            .Concat(Exponential(retry.RedeliveryLimit, retry.RedeliveryMinInterval, retry.RedeliveryMaxInterval))
            .ToArray();
        if (schedule.Length > 0)
        {
            endpoint.UseMessageRetry(r => r.Intervals(schedule));
        }
    }

    private static IEnumerable<TimeSpan> Exponential(int count, TimeSpan min, TimeSpan max)
    {
        for (var i = 0; i < count; i++)
        {
            yield return TimeSpan.FromTicks(Math.Min(max.Ticks, (long)(min.Ticks * Math.Pow(2, i))));
        }
    }

    private sealed class BusChoiceLogger(Microsoft.Extensions.Options.IOptions<MessageBusOptions> options, ILogger<BusChoiceLogger> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var chosen = options.Value;
            if (chosen.Transport == BusTransport.RabbitMq)
            {
                var broker = chosen.RabbitMqUri is { } uri ? $"{uri.Host}:{uri.Port}" : "(none)";
                ServiceDefaultsLog.RabbitMqBus(logger, broker);
            }
            else
            {
                ServiceDefaultsLog.InMemoryBus(logger);
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

internal static partial class ServiceDefaultsLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Message bus: RabbitMQ at {Broker}")]
    public static partial void RabbitMqBus(Microsoft.Extensions.Logging.ILogger logger, string broker);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message bus: MassTransit in-memory transport (single process)")]
    public static partial void InMemoryBus(Microsoft.Extensions.Logging.ILogger logger);
}
