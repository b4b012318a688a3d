using System.Runtime.CompilerServices;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.RunStreaming.Replay;
using AgentOrchestrator.RunStreaming.Subscribers;
using AgentOrchestrator.RunStreaming.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.RunStreaming.Subscriptions;

/// <summary>
/// One subscription's event stream, the same for every transport: what the client missed (after its cursor), then
/// live events through its own <see cref="SubscriberOutbox"/>, ending after the terminal event. A cursor this gateway
/// does not hold gets stream.reset first and then the whole transcript: from the tail when it holds the run from its
/// start, otherwise the durable record (finished steps and lifecycle) followed by the tail's events of the other
/// steps. Throws <see cref="SlowConsumerException"/> when the subscriber falls past its hard limit. Every event waits
/// for its tenant's share of the gateway's outbound capacity (<see cref="DeliveryScheduler"/>) before it is sent. A live
/// traced token delta records its enqueue-to-written hop when it is handed to the transport; a timed subscription gets it
/// with its whole trace (<see cref="RunEvent.Trace"/> ending at gateway.written), the others exactly as queued.
/// </summary>
internal sealed class RunEventStreamer(IRunEventFeed feed, IDurableRunTranscript durable, IOptionsMonitor<DeliveryOptions> options,
    DeliveryMetrics metrics, DeliveryPacer pacer, RunStreamMetrics streamMetrics, TimeProvider time, ILogger<RunEventStreamer> logger)
{
    public async IAsyncEnumerable<RunEvent> StreamAsync(string tenantId, string runId, string? cursor, LocalSubscriber subscriber,
        bool timed, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        var queue = new SubscriberOutbox(options.CurrentValue, metrics);
        subscriber.Attach(queue);
        using var subscription = await feed.SubscribeAsync(tenantId, runId, cursor, queue, cancellationToken);
        using var sends = pacer.Open(tenantId, runId);
        var hasCursor = !string.IsNullOrEmpty(cursor);
        var reset = hasCursor && !subscription.CursorKnown;
        IReadOnlyList<RunEvent> first = subscription.Replay;
        DurableCoverage? covered = null;
        if (reset || (!hasCursor && !subscription.FromRunStart))
        {
            var source = subscription.FromRunStart ? "tail" : "durable";
            if (reset)
            {
                SubscriptionLog.CursorReset(logger, runId, cursor!, source);
                yield return Delivered(await sends.SendAsync(StreamReset(tenantId, runId), live: false, cancellationToken), subscriber);
            }
            if (!subscription.FromRunStart)
            {
                (first, covered) = await WholeTranscriptAsync(tenantId, runId, subscription.Replay, cancellationToken);
            }
            metrics.Replay(reset ? "reset-" + source : source);
        }
        else if (hasCursor)
        {
            metrics.Replay("tail");
        }

        foreach (var runEvent in first)
        {
            yield return Delivered(await sends.SendAsync(runEvent, live: false, cancellationToken), subscriber);
            if (RunEventTerminals.IsTerminal(runEvent.Type))
            {
                yield break;
            }
        }
        while (await NextAsync(queue, sends, cancellationToken) is { } runEvent)
        {
            if (covered?.Covers(runEvent) == true)
            {
                continue; // reached this gateway after the durable record had it: already sent
            }
            var enqueuedAtUs = queue.LastReadEnqueuedAtUs;
            var sent = Delivered(await sends.SendAsync(runEvent, live: true, cancellationToken), subscriber);
            yield return enqueuedAtUs == 0 ? sent : Written(sent, enqueuedAtUs, timed);
            if (RunEventTerminals.IsTerminal(runEvent.Type))
            {
                yield break;
            }
        }
    }

    /// <summary>A traced delta handed to the transport now: its hop from the enqueue, and for a timed subscription its trace.</summary>
    private RunEvent Written(RunEvent runEvent, long enqueuedAtUs, bool timed)
    {
        var writtenAtUs = streamMetrics.NowUs();
        streamMetrics.TokenHop(TokenPath.GatewayWritten, enqueuedAtUs, writtenAtUs);
        return timed && runEvent.Trace is { } trace
            ? runEvent with { Trace = [.. trace, new PathStamp(TokenPath.GatewayEnqueued, enqueuedAtUs), new PathStamp(TokenPath.GatewayWritten, writtenAtUs)] }
            : runEvent;
    }

    private static ValueTask<RunEvent?> NextAsync(SubscriberOutbox queue, SubscriberSends sends, CancellationToken cancellationToken)
    {
        sends.Release(); // the last event went out: no capacity is held while this subscriber waits for the next one
        return queue.ReadAsync(cancellationToken);
    }

    /// <summary>Finished steps and lifecycle from the durable record, then the tail's events it does not cover.</summary>
    private async Task<(IReadOnlyList<RunEvent> Events, DurableCoverage? Covered)> WholeTranscriptAsync(string tenantId, string runId,
        IReadOnlyList<RunEvent> tail, CancellationToken cancellationToken)
    {
        var recorded = await durable.ReadAsync(tenantId, runId, cancellationToken);
        if (recorded is null || recorded.Count == 0)
        {
            return (tail, null);
        }
        var covered = new DurableCoverage(recorded);
        var whole = new List<RunEvent>(recorded.Count + tail.Count);
        whole.AddRange(recorded);
        foreach (var runEvent in tail)
        {
            if (!covered.Covers(runEvent))
            {
                whole.Add(runEvent);
            }
        }
        return (whole, covered);
    }

    private RunEvent Delivered(RunEvent runEvent, LocalSubscriber subscriber)
    {
        subscriber.Delivered(runEvent);
        metrics.Delivered(subscriber.Transport);
        return runEvent;
    }

    private RunEvent StreamReset(string tenantId, string runId) => new()
    {
        Id = RunEventIds.ForRun(runId, RunEventTypes.StreamReset),
        RunId = runId,
        TenantId = tenantId,
        Type = RunEventTypes.StreamReset,
        Ts = time.GetUtcNow(),
    };

    /// <summary>The steps and run-level event types a durable transcript already holds.</summary>
    private sealed class DurableCoverage
    {
        private readonly HashSet<string> _steps = new(StringComparer.Ordinal);
        private readonly HashSet<string> _runTypes = new(StringComparer.Ordinal);

        public DurableCoverage(IReadOnlyList<RunEvent> recorded)
        {
            foreach (var runEvent in recorded)
            {
                _ = runEvent.Step is { } step ? _steps.Add(step) : _runTypes.Add(runEvent.Type);
            }
        }

        public bool Covers(RunEvent runEvent) => runEvent.Step is { } step ? _steps.Contains(step) : _runTypes.Contains(runEvent.Type);
    }
}
