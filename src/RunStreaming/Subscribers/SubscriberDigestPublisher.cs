using AgentOrchestrator.RunStreaming.Delivery;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.RunStreaming.Subscribers;

/// <summary>
/// Publishes this gateway's changed subscriber positions every <see cref="DeliveryOptions.DigestInterval"/> (an
/// empty digest is the heartbeat that says this gateway is alive), and sweeps expired records.
/// </summary>
internal sealed class SubscriberDigestPublisher(SubscriberRegistry registry, IBus bus, IOptions<DeliveryOptions> options, TimeProvider time,
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
                    SubscriberLog.DigestPublishFailed(logger, e, registry.InstanceId);
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
