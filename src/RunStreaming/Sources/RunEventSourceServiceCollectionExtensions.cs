using AgentOrchestrator.Messaging;
using AgentOrchestrator.RunStreaming.Telemetry;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.RunStreaming.Sources;

/// <summary>
/// Chooses where the gateway's run events come from, by Bus:Transport: RabbitMQ, the run-event stream (one total
/// order for every gateway, warm-up and resume after broker loss); in memory (one process), the MassTransit consumer.
/// </summary>
internal static partial class RunEventSourceServiceCollectionExtensions
{
    /// <summary>Registers the token-path metrics and, when the transport is RabbitMQ, the stream source, its options ("Gateway:EventStream") and its /readyz check when the transport is RabbitMQ.</summary>
    public static IServiceCollection AddRunEventSource(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHostedService<RunEventSourceLogger>();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RunStreamMetrics>();
        if (TransportOf(configuration) != BusTransport.RabbitMq)
        {
            return services;
        }
        services.AddOptions<RunEventStreamOptions>().BindConfiguration(RunEventStreamOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RunEventStreamSourceOptions>().BindConfiguration(RunEventStreamSourceOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.WarmWindow is null || o.WarmWindow >= TimeSpan.Zero, "Gateway:EventStream:WarmWindow must not be negative.")
            .Validate(o => o.ReconnectMinDelay > TimeSpan.Zero && o.ReconnectMaxDelay >= o.ReconnectMinDelay,
                "Gateway:EventStream:ReconnectMinDelay must be positive and ReconnectMaxDelay at least as long.")
            .Validate(o => o.ProcessingRetryMinDelay >= TimeSpan.Zero, "Gateway:EventStream:ProcessingRetryMinDelay must not be negative.")
            .ValidateOnStart();
        services.TryAddSingleton<RunEventStreamState>();
        services.TryAddSingleton<RunEventStreamMetrics>();
        services.AddHostedService<RunEventStreamSource>();
        services.AddHealthChecks().AddCheck<RunEventStreamHealthCheck>("run-event-stream", tags: ["ready"]);
        return services;
    }

    /// <summary>The MassTransit consumer, only for the in-memory transport (RabbitMQ deployments read the stream instead).</summary>
    public static void AddRunEventConsumer(this IBusRegistrationConfigurator bus, IConfiguration configuration)
    {
        if (TransportOf(configuration) != BusTransport.RabbitMq)
        {
            bus.AddConsumer<RunEventsPublishedConsumer, RunEventsPublishedConsumerDefinition>();
        }
    }

    private static BusTransport TransportOf(IConfiguration configuration) =>
        configuration.GetSection(MessageBusOptions.SectionName).Get<MessageBusOptions>()?.Transport ?? BusTransport.InMemory;

    private sealed partial class RunEventSourceLogger(IOptions<MessageBusOptions> bus, IServiceProvider services, ILogger<RunEventSourceLogger> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (bus.Value.Transport == BusTransport.RabbitMq)
            {
                var stream = services.GetRequiredService<IOptions<RunEventStreamOptions>>().Value;
                StreamSource(logger, stream.Name, stream.MaxAge);
            }
            else
            {
                ConsumerSource(logger);
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Information, Message = "Run event source: RabbitMQ stream {Stream} (retention {MaxAge}), shared order for all gateways")]
        private static partial void StreamSource(ILogger logger, string stream, TimeSpan maxAge);

        [LoggerMessage(Level = LogLevel.Information, Message = "Run event source: MassTransit consumer on the in-memory bus (single process)")]
        private static partial void ConsumerSource(ILogger logger);
    }
}
