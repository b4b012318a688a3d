using System.Diagnostics.Metrics;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Telemetry;

/// <summary>
/// How late the token path runs, on the gateway's meter: token deltas reaching subscribers after the model emitted
/// them, and run-event messages consumed after they were published. Tenant tags come from the run events' own tenant.
/// </summary>
internal sealed class RunStreamMetrics
{
    /// <summary>Transport tag of <see cref="BusConsumed"/>: the RabbitMQ run-event stream or the in-memory MassTransit consumer.</summary>
    public const string StreamTransport = "rabbitmq-stream";

    public const string InMemoryTransport = "in-memory";

    // Sub-millisecond resolution where the latency target lives (p50 <= 1 ms, p99 <= 5 ms), seconds for backlogs.
    private static readonly double[] LatencyBucketsMs = [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

    private readonly Histogram<double> _tokenLatency;
    private readonly Histogram<double> _consumeLag;
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
            "From a run-event message's publish time (its newest event's timestamp) to the gateway consuming it, once caught up",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsMs });
    }

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
