using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentOrchestrator.Messaging.Tests;

public sealed class MessageBusTests(RabbitMqFixture rabbit) : IClassFixture<RabbitMqFixture>
{
    private sealed class Received
    {
        public string RunId { get; } = Guid.NewGuid().ToString("N");

        public TaskCompletionSource<RunEventsPublished> Message { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Records this test's message only: a shared broker may carry other runs' events too.</summary>
    private sealed class RecordingConsumer(Received received) : IConsumer<RunEventsPublished>
    {
        public Task Consume(ConsumeContext<RunEventsPublished> context)
        {
            if (context.Message.RunId == received.RunId)
            {
                received.Message.TrySetResult(context.Message);
            }
            return Task.CompletedTask;
        }
    }

    private static async Task<RunEventsPublished> RoundTripAsync(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        var received = new Received();
        builder.Services.AddSingleton(received);
        // A queue of its own that goes away with the test, so nothing left on a shared broker is read back.
        builder.Services.AddMessageBus(builder.Configuration, bus => bus.AddConsumer<RecordingConsumer>()
            .Endpoint(endpoint =>
            {
                endpoint.Name = "service-defaults-test-" + received.RunId;
                endpoint.Temporary = true;
            }));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var sent = new RunEventsPublished
            {
                RunId = received.RunId,
                TenantId = "acme",
                Events = [new RunEvent { Id = RunEventIds.ForRun(received.RunId, RunEventTypes.RunStarted), RunId = received.RunId, TenantId = "acme", Type = RunEventTypes.RunStarted, Ts = DateTimeOffset.UtcNow }],
            };
            await host.Services.GetRequiredService<IPublishEndpoint>().Publish(sent);
            return await received.Message.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AddMessageBus_DefaultConfiguration_InMemoryTransportDelivers()
    {
        var message = await RoundTripAsync([]);

        Assert.Equal(RunEventTypes.RunStarted, Assert.Single(message.Events).Type);
    }

    [Fact]
    public async Task AddMessageBus_RabbitMqConfigured_DeliversThroughTheBroker()
    {
        var message = await RoundTripAsync(new Dictionary<string, string?>
        {
            ["Bus:Transport"] = "RabbitMq",
            ["Bus:RabbitMqUri"] = rabbit.Uri.ToString(),
        });

        Assert.Equal("acme", message.TenantId);
    }

    [Fact]
    public void AddMessageBus_RabbitMqWithoutUri_FailsWithAClearMessage()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Bus:Transport"] = "RabbitMq" }).Build();
        var services = new ServiceCollection();

        var error = Assert.Throws<InvalidOperationException>(() => services.AddMessageBus(configuration));

        Assert.Contains("Bus:RabbitMqUri", error.Message, StringComparison.Ordinal);
    }
}
