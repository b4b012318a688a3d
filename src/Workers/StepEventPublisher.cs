using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Log;
using AgentOrchestrator.RunStreaming.Publishing;
using AgentOrchestrator.Workers.Telemetry;

namespace AgentOrchestrator.Workers;

/// <summary>
/// Publishes the events of one step attempt (ids per <see cref="RunEventIds.ForStep"/>), one message each, in call
/// order (<see cref="RunEventProducer"/>). Token deltas carry their offset in the attempt's text; step.completed
/// hands the log the attempt's deltas as one compacted record, so a finished attempt costs the log its text once.
/// </summary>
internal sealed class StepEventPublisher(RunEventPublisher publisher, TimeProvider time, string runId, string tenantId, string step, string agent, int attempt,
    WorkerMetrics? metrics = null)
{
    private readonly RunEventProducer _producer = publisher.CreateProducer();
    private readonly Lock _gate = new();
    private readonly List<CompactedToken> _tokens = [];
    private string? _epoch;
    private bool _compactable = true;
    private long _nextOffset;

    public int Attempt => attempt;

    public Task PublishAsync(string type, long index, string? text, CancellationToken cancellationToken, JsonElement? data = null)
    {
        var compaction = type == RunEventTypes.StepCompleted && text is not null ? Compaction(text) : null;
        return _producer.PublishAsync(new RunEventsPublished { RunId = runId, TenantId = tenantId, Events = [NewEvent(type, index, text, data, null, null)] },
            compaction, cancellationToken);
    }

    /// <summary>
    /// One token delta (called in index order; publishes may overlap). Its message carries the path's stamps so far
    /// (worker.received, publish.started) for the gateway's hop metrics; the worker's own hops are recorded once the log
    /// took it and it went out live (<see cref="TokenPath"/>).
    /// </summary>
    public async Task PublishTokenAsync(long index, string text, long? emittedAtUs, long receivedAtUs, CancellationToken cancellationToken)
    {
        var offset = _nextOffset;
        _nextOffset += text.Length;
        var received = new PathStamp(TokenPath.WorkerReceived, receivedAtUs);
        var started = new PathStamp(TokenPath.PublishStarted, TokenPath.NowUs(time));
        var position = await _producer.PublishAsync(new RunEventsPublished
        {
            RunId = runId,
            TenantId = tenantId,
            Events = [NewEvent(RunEventTypes.Token, index, text, data: null, emittedAtUs, offset)],
            Stamps = receivedAtUs == 0 ? [started] : [received, started],
        }, compaction: null, cancellationToken);
        lock (_gate)
        {
            _compactable &= offset <= int.MaxValue && (_epoch is null || _epoch == position.Epoch);
            _epoch = position.Epoch;
            _tokens.Add(new CompactedToken(position.Seq, index, (int)Math.Min(offset, int.MaxValue)));
        }
        metrics?.TokenPathTaken([
            new PathStamp(TokenPath.ModelEmitted, emittedAtUs ?? 0), received, started, new PathStamp(TokenPath.PublishConfirmed, TokenPath.NowUs(time))]);
    }

    /// <summary>On attempts after the first: tells subscribers this attempt supersedes the earlier ones.</summary>
    public Task PublishRetryingIfRetryAsync(CancellationToken cancellationToken) =>
        attempt > 1
            ? PublishAsync(RunEventTypes.StepRetrying, 0, text: null, cancellationToken,
                JsonSerializer.SerializeToElement(new StepRetryingData(attempt - 1), WorkerJsonContext.Default.StepRetryingData))
            : Task.CompletedTask;

    /// <summary>The attempt's deltas as one record, when every delta reached the same log and they spell <paramref name="text"/>.</summary>
    private StepCompaction? Compaction(string text)
    {
        lock (_gate)
        {
            if (!_compactable || _epoch is null || _tokens.Count == 0 || _nextOffset != text.Length)
            {
                return null;
            }
            var tokens = _tokens.OrderBy(t => t.Index).ToList();
            for (var i = 0; i < tokens.Count; i++)
            {
                if (tokens[i].Index != i)
                {
                    return null;
                }
            }
            return new StepCompaction(_epoch, step, attempt, agent, text, tokens, time.GetUtcNow());
        }
    }

    private RunEvent NewEvent(string type, long index, string? text, JsonElement? data, long? emittedAtUs, long? offset) => new()
    {
        Id = RunEventIds.ForStep(runId, step, attempt, type, index),
        RunId = runId,
        TenantId = tenantId,
        Type = type,
        Step = step,
        Agent = agent,
        Attempt = attempt,
        Index = index,
        Text = text,
        Offset = offset,
        Ts = time.GetUtcNow(),
        ModelEmittedAtUs = emittedAtUs,
        Data = data,
    };
}
