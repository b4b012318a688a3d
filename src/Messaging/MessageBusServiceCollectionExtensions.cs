using AgentOrchestrator.Messaging.Health;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Messaging;

public static class MessageBusServiceCollectionExtensions
{
    /// <summary>
    /// MassTransit on the transport chosen in configuration section "Bus" (in-memory by default, RabbitMQ
    /// when configured). The choice is logged at start-up, never made silently.
    /// </summary>
    public static IServiceCollection AddMessageBus(this IServiceCollection services, IConfiguration configuration,
        Action<IBusRegistrationConfigurator>? configureConsumers = null)
    {
        var options = configuration.GetSection(MessageBusOptions.SectionName).Get<MessageBusOptions>() ?? new MessageBusOptions();
        services.AddSingleton(Options.Create(options));
        services.AddOptions<MessageRetryOptions>().BindConfiguration(MessageRetryOptions.SectionName).ValidateDataAnnotations()
            .Validate(r => r.MinInterval >= TimeSpan.Zero && r.MaxInterval >= r.MinInterval, "Bus:Retry:MaxInterval must be at least MinInterval (both not negative).")
            .Validate(r => r.RedeliveryMinInterval >= TimeSpan.Zero && r.RedeliveryMaxInterval >= r.RedeliveryMinInterval,
                "Bus:Retry:RedeliveryMaxInterval must be at least RedeliveryMinInterval (both not negative).")
            .ValidateOnStart();
        services.AddMetrics();
        services.TryAddSingleton<BusFaultObserver>();
        services.AddReceiveObserver<BusFaultObserver>();
        services.AddMassTransit(bus =>
        {
            configureConsumers?.Invoke(bus);
            bus.AddConfigureEndpointsCallback((context, _, endpoint) => UseRetryThenRedelivery(endpoint,
                context.GetRequiredService<IOptions<MessageRetryOptions>>().Value));
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

    private sealed class BusChoiceLogger(IOptions<MessageBusOptions> options, ILogger<BusChoiceLogger> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var chosen = options.Value;
            if (chosen.Transport == BusTransport.RabbitMq)
            {
                var broker = chosen.RabbitMqUri is { } uri ? $"{uri.Host}:{uri.Port}" : "(none)";
                MessagingLog.RabbitMqBus(logger, broker);
            }
            else
            {
                MessagingLog.InMemoryBus(logger);
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
