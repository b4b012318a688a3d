using MassTransit;

namespace AgentOrchestrator.RunStreaming.Subscribers;

/// <summary>Keeps the other gateways' subscriber positions.</summary>
internal sealed class SubscriberPositionsDigestConsumer(SubscriberRegistry registry) : IConsumer<SubscriberPositionsDigest>
{
    public Task Consume(ConsumeContext<SubscriberPositionsDigest> context)
    {
        registry.Apply(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>Every gateway needs every other gateway's digests: a temporary queue per instance (fan-out).</summary>
internal sealed class SubscriberPositionsDigestConsumerDefinition : ConsumerDefinition<SubscriberPositionsDigestConsumer>
{
    public SubscriberPositionsDigestConsumerDefinition()
    {
        Endpoint(endpoint =>
        {
            endpoint.Name = "gateway-subscriber-digests";
            endpoint.InstanceId = "-" + Guid.NewGuid().ToString("N")[..12];
            endpoint.Temporary = true;
        });
    }
}
