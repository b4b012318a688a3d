using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Live;
using AgentOrchestrator.RunStreaming.Log;
using AgentOrchestrator.RunStreaming.Telemetry;

namespace AgentOrchestrator.RunStreaming.Publishing;

/// <summary>
/// How a run's events leave their producer (a worker activity): appended to the run's log, which numbers them, then
/// sent live to the gateways that watch the run. A publish completes once the log holds the message (that is the
/// commit: a failure throws, and Temporal retries the activity, whose next attempt supersedes this one); the live
/// send is best effort, as gateways read anything they miss from the log.
/// </summary>
public sealed class RunEventPublisher
{
    private readonly IRunEventLog _log;
    private readonly IRunEventLivePublisher _live;

    internal RunEventPublisher(IRunEventLog log, IRunEventLivePublisher live)
    {
        _log = log;
        _live = live;
    }

    /// <summary>Publishes one message on its own (its live send is not ordered against other publishes).</summary>
    public async ValueTask<RunLogPosition> PublishAsync(RunEventsPublished message, CancellationToken cancellationToken = default)
    {
        using var span = RunEventTracing.StartPublish();
        var position = await _log.AppendAsync(message, compaction: null, cancellationToken).ConfigureAwait(false);
        await _live.PublishAsync(new RunLogAppended(position.Epoch, position.Seq, message, span?.Id), cancellationToken).ConfigureAwait(false);
        return position;
    }

    /// <summary>
    /// A producer whose messages (for example one step attempt's) reach the log, and go out live, in the order it
    /// publishes them, even when it does not wait for one publish before starting the next.
    /// </summary>
    public RunEventProducer CreateProducer() => new(_log, _live);
}
