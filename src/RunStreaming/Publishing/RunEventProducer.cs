using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Live;
using AgentOrchestrator.RunStreaming.Log;
using AgentOrchestrator.RunStreaming.Telemetry;

namespace AgentOrchestrator.RunStreaming.Publishing;

/// <summary>
/// One producer's publishes, kept in order: each append is issued before <see cref="PublishAsync"/> returns (the log
/// numbers them in call order), and each live send waits for the one before it, so gateways seldom see a gap that only
/// reordering made. Calls must not overlap (one caller at a time, as a step attempt's streaming loop is).
/// </summary>
public sealed class RunEventProducer
{
    private readonly IRunEventLog _log;
    private readonly IRunEventLivePublisher _live;
    private Task _lastLive = Task.CompletedTask;

    internal RunEventProducer(IRunEventLog log, IRunEventLivePublisher live)
    {
        _log = log;
        _live = live;
    }

    /// <summary>
    /// Appends <paramref name="message"/> (with <paramref name="compaction"/>: the attempt's token entries become one
    /// record) and sends it live after the previous message. Completes with the message's log position once it is in
    /// the log and its live send went out.
    /// </summary>
    public Task<RunLogPosition> PublishAsync(RunEventsPublished message, StepCompaction? compaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var append = _log.AppendAsync(message, compaction, cancellationToken);
        var sent = SendAfterAsync(append, message, _lastLive, cancellationToken);
        _lastLive = sent;
        return sent;
    }

    private async Task<RunLogPosition> SendAfterAsync(ValueTask<RunLogPosition> append, RunEventsPublished message, Task previous,
        CancellationToken cancellationToken)
    {
        using var span = RunEventTracing.StartPublish();
        var position = await append.ConfigureAwait(false);
        // The previous send's failure is its own caller's: here it only orders the sends.
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _live.PublishAsync(new RunLogAppended(position.Epoch, position.Seq, message, span?.Id), cancellationToken).ConfigureAwait(false);
        return position;
    }
}
