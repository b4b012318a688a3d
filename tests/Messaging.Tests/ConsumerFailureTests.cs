using System.Diagnostics.Metrics;
using System.Text;
using AgentOrchestrator.TestSupport;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentOrchestrator.Messaging.Tests;

/// <summary>A message type of this test alone, so no other test's traffic reaches the failing consumer (its own exchange).</summary>
public sealed record ConsumerFailureProbe(string Id);

/// <summary>AddMessageBus' failure policy over a real broker: retry with backoff, redelivery, then the _error queue, counted.</summary>
public sealed class ConsumerFailureTests(RabbitMqFixture rabbit) : IClassFixture<RabbitMqFixture>
{
    private sealed class Attempts
    {
        public int Count;
    }

    private sealed class AlwaysFailingConsumer(Attempts attempts) : IConsumer<ConsumerFailureProbe>
    {
        public Task Consume(ConsumeContext<ConsumerFailureProbe> context)
        {
            Interlocked.Increment(ref attempts.Count);
            throw new InvalidOperationException("this consumer always fails: " + context.Message.Id);
        }
    }

    [Fact]
    public async Task ConsumerThrows_RetriedAndRedeliveredThenParkedInErrorQueue_CountedOnce()
    {
        var queue = "consumer-failure-test-" + Guid.NewGuid().ToString("N")[..12];
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bus:Transport"] = "RabbitMq",
            ["Bus:RabbitMqUri"] = rabbit.Uri.ToString(),
            ["Bus:Retry:RetryLimit"] = "2",
            ["Bus:Retry:MinInterval"] = "00:00:00.010",
            ["Bus:Retry:MaxInterval"] = "00:00:00.050",
            ["Bus:Retry:RedeliveryLimit"] = "1",
            ["Bus:Retry:RedeliveryMinInterval"] = "00:00:00.100",
            ["Bus:Retry:RedeliveryMaxInterval"] = "00:00:00.100",
        });
        var attempts = new Attempts();
        builder.Services.AddSingleton(attempts);
        builder.Services.AddMessageBus(builder.Configuration, bus => bus.AddConsumer<AlwaysFailingConsumer>().Endpoint(e => e.Name = queue));
        using var host = builder.Build();
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        var deadLettered = 0L;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                // This host's meter only: hosts of test classes running beside it have their own.
                if (instrument.Meter.Scope == meters && instrument.Meter.Name == BusFaultObserver.MeterName && instrument.Name == "bus.consumer.dead_lettered")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref deadLettered, value));
        listener.Start();
        await host.StartAsync();
        try
        {
            var id = Guid.NewGuid().ToString("N");
            await host.Services.GetRequiredService<IPublishEndpoint>().Publish(new ConsumerFailureProbe(id));

            RabbitMQ.Client.BasicGetResult? parked = null;
            await Eventually.TrueAsync(async () => (parked = await RabbitMqAdmin.GetAsync(rabbit.Uri, queue + "_error")) is not null,
                TimeSpan.FromSeconds(60), "the message reaches the _error queue");

            Assert.Contains(id, Encoding.UTF8.GetString(parked!.Body.Span), StringComparison.Ordinal);
            // The first try, 2 retries, 1 redelivery.
            Assert.Equal(4, Volatile.Read(ref attempts.Count));
            await Eventually.TrueAsync(() => Interlocked.Read(ref deadLettered) == 1, TimeSpan.FromSeconds(10), "the fault is counted");
        }
        finally
        {
            await host.StopAsync();
            await RabbitMqAdmin.DeleteQueuesAsync(rabbit.Uri, queue, queue + "_error");
        }
    }
}
