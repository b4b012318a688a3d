using System.Collections.Concurrent;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Live;

namespace AgentOrchestrator.Workers.Tests;

/// <summary>Every RunEventsPublished message the worker published, in the order it went out live.</summary>
public sealed class RunEventRecorder
{
    private readonly ConcurrentQueue<RunEventsPublished> _messages = new();

    public void Record(RunEventsPublished message) => _messages.Enqueue(message);

    public IReadOnlyList<RunEventsPublished> MessagesOf(string runId) => _messages.Where(m => m.RunId == runId).ToList();

    public IReadOnlyList<RunEvent> EventsOf(string runId) => MessagesOf(runId).SelectMany(m => m.Events).ToList();

    public bool Has(string runId, string type) => EventsOf(runId).Any(e => e.Type == type);
}

/// <summary>
/// Takes the place of the live publisher in a worker host: records every message the worker published (after the run's
/// log took it), in the order its live sends go out - the order a gateway receives them.
/// </summary>
internal sealed class RecordingLivePublisher(RunEventRecorder recorder) : IRunEventLivePublisher
{
    public ValueTask PublishAsync(RunLogAppended appended, CancellationToken cancellationToken)
    {
        recorder.Record(appended.Message);
        return ValueTask.CompletedTask;
    }
}
