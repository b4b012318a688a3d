using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.RunStreaming.Replay;
using AgentOrchestrator.RunStreaming.Subscribers;
using AgentOrchestrator.RunStreaming.Subscriptions;
using AgentOrchestrator.RunStreaming.Telemetry;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentOrchestrator.RunStreaming;

public static class RunStreamingServiceCollectionExtensions
{
    /// <summary>
    /// The run-event path of a gateway: the runs its subscribers watch, each read from the run's log and kept current
    /// by live routing, in its canonical order (options "Gateway:Events", "RunEvents:Log", "RunEvents:Live", the
    /// "run-events" /readyz check), per-subscriber queues and the weighted fair delivery scheduler (options "Gateway:Delivery"), the
    /// subscriber registry and its digests to the other gateways, metrics, and <see cref="RunSubscriptions"/>, the
    /// subscribe preamble every transport calls. The host registers an <see cref="IRunLookup"/>, an
    /// <see cref="IDurableRunTranscript"/> and the tenant policies (AddTenancy); the bus consumers are added
    /// separately through <see cref="AddRunStreamingConsumers"/>.
    /// </summary>
    public static IServiceCollection AddRunStreaming(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RunEventTailOptions>().BindConfiguration(RunEventTailOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DeliveryMetrics>();
        services.TryAddSingleton<RunStreamMetrics>();
        services.AddRunEventFeed(configuration);
        services.TryAddSingleton<GatewayInstance>();
        services.TryAddSingleton<SubscriberRegistry>();
        services.TryAddSingleton<TenantDeliveryMetrics>();
        services.TryAddSingleton<DeliveryScheduler>();
        services.TryAddSingleton<RunStartClock>();
        services.TryAddSingleton<DeliveryPacer>();
        services.TryAddSingleton<RunEventStreamer>();
        services.TryAddSingleton(provider => new RunSubscriptions(provider.GetRequiredService<SubscriberRegistry>(),
            provider.GetRequiredService<RunEventStreamer>(), provider.GetRequiredService<IRunLookup>(), provider.GetRequiredService<DeliveryMetrics>()));
        services.AddHostedService<SubscriberDigestPublisher>();
        return services;
    }

    /// <summary>
    /// The run-event path's bus consumers; pass to AddMessageBus(configuration, bus => ...): other gateways' subscriber
    /// digests (run events themselves do not travel through MassTransit: see <see cref="AddRunEventFeed"/>).
    /// </summary>
    public static void AddRunStreamingConsumers(this IBusRegistrationConfigurator bus, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.AddConsumer<SubscriberPositionsDigestConsumer, SubscriberPositionsDigestConsumerDefinition>();
    }
}
