using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
        builder.Services.AddHealthChecks();
        return builder;
    }

    /// <summary>/healthz answers while the process lives; /readyz runs the checks tagged "ready" (dependencies).</summary>
    public static IEndpointRouteBuilder MapDefaultEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
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
        services.AddMassTransit(bus =>
        {
            configureConsumers?.Invoke(bus);
            if (options.Transport == BusTransport.RabbitMq)
            {
                var uri = options.RabbitMqUri ?? throw new InvalidOperationException("Bus:RabbitMqUri is required when Bus:Transport is RabbitMq.");
                bus.UsingRabbitMq((context, rabbit) =>
                {
                    rabbit.Host(uri);
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
        return services;
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
