using System.Diagnostics.Metrics;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Telemetry;
using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.RunStreaming.Tests.Telemetry;

public sealed class DeliveryMetricsTests
{
    [Fact]
    public void Outbox_CoalescingAndSlowConsumer_AreCountedOnTheGatewayMeter()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var metrics = new DeliveryMetrics(meters);
        var measured = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This test's meter only: gateways of test classes running beside it count deliveries too.
            if (instrument.Meter.Scope == meters && instrument.Meter.Name == DeliveryMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            measured[instrument.Name] = measured.GetValueOrDefault(instrument.Name) + value);
        listener.Start();
        var run = new RunScript("t1", "r1");
        var outbox = new SubscriberOutbox(new DeliveryOptions { SoftLimitEvents = 2, HardLimitEvents = 4, SoftLimitBytes = 1024, HardLimitBytes = 8192 }, metrics);

        outbox.Enqueue(run.Started("writer", 1));
        for (var i = 0; outbox.Enqueue(run.Token("writer", 1, i, new string('x', 100))); i++)
        {
        }
        metrics.Acknowledged(lag: 3);

        Assert.Equal(outbox.CoalescedCount, measured["gateway.deltas.coalesced"]);
        Assert.True(outbox.CoalescedCount > 0);
        Assert.Equal(1, measured["gateway.subscribers.slow_consumer"]);
        Assert.Equal(1, measured["gateway.acks"]);
        Assert.Equal(3, measured["gateway.subscriber.lag"]);
    }
}
