using AgentOrchestrator.Gateway.Events;
using AgentOrchestrator.Gateway.Sse;
using AgentOrchestrator.Gateway.Telemetry;
using MassTransit;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentOrchestrator.Gateway.Delivery;

public static class DeliveryServiceCollectionExtensions
{
    /// <summary>
    /// Realtime delivery: options ("Gateway:Delivery"), per-subscriber queues and streams, the weighted fair delivery
    /// scheduler (needs AddTenancy for tenant weights), the subscriber registry and
    /// its digests to the other gateways, metrics, and the durable transcript from Temporal history (unless the host
    /// registered another <see cref="IDurableRunTranscript"/>).
    /// </summary>
    public static IServiceCollection AddRunDelivery(this IServiceCollection services)
    {
        services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddMetrics();
        services.TryAddSingleton<DeliveryMetrics>();
        services.AddGatewayMetrics();
        services.TryAddSingleton<GatewayInstance>();
        services.TryAddSingleton<SubscriberRegistry>();
        services.TryAddSingleton<TenantDeliveryMetrics>();
        services.TryAddSingleton<DeliveryScheduler>();
        services.TryAddSingleton<RunStartClock>();
        services.TryAddSingleton<DeliveryPacer>();
        services.TryAddSingleton<RunEventStreamer>();
        services.TryAddSingleton<IDurableRunTranscript, TemporalRunTranscript>();
        services.AddHostedService<SubscriberDigestPublisher>();
        return services;
    }

    /// <summary>The delivery bus consumer (other gateways' subscriber digests).</summary>
    public static void AddRunDeliveryConsumers(this IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<SubscriberPositionsDigestConsumer, SubscriberPositionsDigestConsumerDefinition>();

    /// <summary>GET /v1/runs/{runId}/events (SSE) and GET /v1/runs/{runId}/subscribers.</summary>
    public static IEndpointRouteBuilder MapRunDelivery(this IEndpointRouteBuilder endpoints, string authorizationPolicy)
    {
        endpoints.MapRunEventStreams(authorizationPolicy);
        return endpoints;
    }
}
