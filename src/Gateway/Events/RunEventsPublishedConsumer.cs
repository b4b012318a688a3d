using System.Security.Cryptography;
using System.Text;
using AgentOrchestrator.Contracts;
using MassTransit;

namespace AgentOrchestrator.Gateway.Events;

/// <summary>Feeds run events from the bus into this gateway instance's <see cref="IRunEventFeed"/>.</summary>
public sealed class RunEventsPublishedConsumer(IRunEventFeed feed) : IConsumer<RunEventsPublished>
{
    public Task Consume(ConsumeContext<RunEventsPublished> context)
    {
        feed.Append(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Every gateway instance needs every run's events (its subscribers may be on any run), so each instance gets its
/// own temporary queue (fan-out) instead of competing on a shared one. Messages of one run are consumed one at a time
/// in arrival order (partitioned by run id); different runs proceed concurrently.
/// </summary>
public sealed class RunEventsPublishedConsumerDefinition : ConsumerDefinition<RunEventsPublishedConsumer>
{
    private const int Partitions = 16;

    public RunEventsPublishedConsumerDefinition()
    {
        Endpoint(endpoint =>
        {
            endpoint.Name = "gateway-run-events";
            endpoint.InstanceId = "-" + Guid.NewGuid().ToString("N")[..12];
            endpoint.Temporary = true;
        });
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<RunEventsPublishedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        consumerConfigurator.Message<RunEventsPublished>(message => message.UsePartitioner(Partitions, consume => PartitionKey(consume.Message.RunId)));
    }

    private static Guid PartitionKey(string runId) => new(SHA256.HashData(Encoding.UTF8.GetBytes(runId)).AsSpan(0, 16));
}
