using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.Delivery;

/// <summary>
/// Publishes this gateway's changed subscriber positions every <see cref="DeliveryOptions.DigestInterval"/> (an
/// empty digest is the heartbeat that says this gateway is alive), and sweeps expired records.
/// </summary>
public sealed class SubscriberDigestPublisher(SubscriberRegistry registry, IBus bus, IOptions<DeliveryOptions> options, TimeProvider time,
    ILogger<SubscriberDigestPublisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.DigestInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var changed = registry.TakeChanged();
                try
                {
                    await bus.Publish(new SubscriberPositionsDigest { InstanceId = registry.InstanceId, SentAt = time.GetUtcNow(), Entries = changed },
                        stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    DeliveryLog.DigestPublishFailed(logger, e, registry.InstanceId);
                    registry.MarkChanged(changed);
                }
                registry.Sweep();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host stopping.
        }
    }
}

/// <summary>Keeps the other gateways' subscriber positions.</summary>
public sealed class SubscriberPositionsDigestConsumer(SubscriberRegistry registry) : IConsumer<SubscriberPositionsDigest>
{
    public Task Consume(ConsumeContext<SubscriberPositionsDigest> context)
    {
        registry.Apply(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>Every gateway needs every other gateway's digests: a temporary queue per instance (fan-out).</summary>
public sealed class SubscriberPositionsDigestConsumerDefinition : ConsumerDefinition<SubscriberPositionsDigestConsumer>
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
