using System.Collections.Concurrent;
using AgentOrchestrator.Contracts;
using MassTransit;

namespace AgentOrchestrator.Workers.Tests;

/// <summary>Every RunEventsPublished message the bus delivered, in delivery order.</summary>
public sealed class RunEventRecorder
{
    private readonly ConcurrentQueue<RunEventsPublished> _messages = new();

    public void Record(RunEventsPublished message) => _messages.Enqueue(message);

    public IReadOnlyList<RunEventsPublished> MessagesOf(string runId) => _messages.Where(m => m.RunId == runId).ToList();

    public IReadOnlyList<RunEvent> EventsOf(string runId) => MessagesOf(runId).SelectMany(m => m.Events).ToList();

    public bool Has(string runId, string type) => EventsOf(runId).Any(e => e.Type == type);
}

public sealed class RecordingConsumer(RunEventRecorder recorder) : IConsumer<RunEventsPublished>
{
    public Task Consume(ConsumeContext<RunEventsPublished> context)
    {
        recorder.Record(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>One message at a time, so the recorder sees the worker's publish order.</summary>
public sealed class RecordingConsumerDefinition : ConsumerDefinition<RecordingConsumer>
{
    public RecordingConsumerDefinition() => ConcurrentMessageLimit = 1;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<RecordingConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = 1;
    }
}
