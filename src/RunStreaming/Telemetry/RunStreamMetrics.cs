using System.Diagnostics.Metrics;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Telemetry;

/// <summary>
/// How late the token path runs, on the gateway's meter: token deltas reaching subscribers after the model emitted
/// them, run-event messages consumed after they were published, and each hop of a token delta's path through the
/// gateway (<see cref="TokenPath"/>). Tenant tags come from the run events' own tenant.
/// </summary>
internal sealed class RunStreamMetrics
{
    // Sub-millisecond resolution where the latency target lives (p50 <= 1 ms, p99 <= 5 ms), seconds for backlogs.
    private static readonly double[] LatencyBucketsMs = [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

    private readonly Histogram<double> _tokenLatency;
    private readonly Histogram<double> _consumeLag;
    private readonly Histogram<double> _tokenHops;
    private readonly TimeProvider _time;

    public RunStreamMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _time = time;
        var meter = meterFactory.Create(DeliveryMetrics.MeterName);
        _tokenLatency = meter.CreateHistogram("gateway.token.latency", "ms",
            "From the model's emit stamp of a token delta to the gateway handing it to a subscriber (live deliveries only)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsMs });
        _consumeLag = meter.CreateHistogram("bus.consume.lag", "ms",
            "From a run-event message's publish time (its newest event's timestamp) to the gateway receiving it live",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsMs });
        _tokenHops = meter.CreateHistogram("gateway.token.hop", "ms",
            "One hop of a token delta's path through the gateway, by hop: the point it reaches (gateway.received, gateway.released, gateway.enqueued, gateway.written), from the point before it",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TokenPath.HopBucketsMs });
    }

    /// <summary>Unix µs now, on the clock the hop stamps use.</summary>
    public long NowUs() => TokenPath.NowUs(_time);

    /// <summary>
    /// A message taken from the bus: its token deltas that carry the publisher's stamps get a <see cref="RunEvent.Trace"/>
    /// ending at gateway.received (recording that hop); the message itself when it has no stamps.
    /// </summary>
    public RunEventsPublished Received(RunEventsPublished message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Stamps is not { Count: > 0 } stamps)
        {
            return message;
        }
        var received = new PathStamp(TokenPath.GatewayReceived, NowUs());
        var events = new RunEvent[message.Events.Count];
        for (var i = 0; i < events.Length; i++)
        {
            var runEvent = message.Events[i];
            events[i] = runEvent.Type == RunEventTypes.Token ? runEvent with { Trace = [.. stamps, received] } : runEvent;
        }
        TokenHop(stamps[^1], received);
        return message with { Events = events };
    }

    /// <summary>One hop, named by the point it reaches, from <paramref name="from"/>.</summary>
    public void TokenHop(PathStamp from, PathStamp to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        TokenHop(to.Point, from.AtUs, to.AtUs);
    }

    /// <summary>One hop to the point <paramref name="hop"/> (a <see cref="TokenPath"/> name), Unix µs at both ends.</summary>
    public void TokenHop(string hop, long fromUs, long toUs) =>
        _tokenHops.Record(TokenPath.HopMs(fromUs, toUs), new KeyValuePair<string, object?>("hop", hop));

    /// <summary>A live token delta handed to a subscriber: records its latency from the model's emit stamp, if it has one.</summary>
    public void LiveTokenDelivered(RunEvent runEvent)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        if (runEvent.ModelEmittedAtUs is { } emittedAtUs)
        {
            var nowUs = (_time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;
            // The model's clock is another machine's: skew can make the difference negative, which is no latency at all.
            _tokenLatency.Record(Math.Max(0, nowUs - emittedAtUs) / 1000.0, new KeyValuePair<string, object?>("tenant", runEvent.TenantId));
        }
    }

    /// <summary>A run-event message consumed from the bus, its events stamped by the publisher just before publishing.</summary>
    public void BusConsumed(RunEventsPublished message, string transport)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Events.Count == 0)
        {
            return;
        }
        var publishedAt = message.Events[^1].Ts;
        var lag = _time.GetUtcNow() - publishedAt;
        _consumeLag.Record(Math.Max(0, lag.TotalMilliseconds), new KeyValuePair<string, object?>("transport", transport));
    }
}
