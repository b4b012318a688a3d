using System.Diagnostics.Metrics;

namespace AgentOrchestrator.RunStreaming.Telemetry;

/// <summary>Delivery instruments on the gateway's meter ("AgentOrchestrator.Gateway").</summary>
internal sealed class DeliveryMetrics
{
    public const string MeterName = "AgentOrchestrator.Gateway";

    private readonly Counter<long> _delivered;
    private readonly Counter<long> _acks;
    private readonly Histogram<long> _lag;
    private readonly Counter<long> _coalesced;
    private readonly Counter<long> _slowConsumers;
    private readonly Counter<long> _replays;

    public DeliveryMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _delivered = meter.CreateCounter<long>("gateway.events.delivered", "{event}", "Run events handed to subscriber connections");
        _acks = meter.CreateCounter<long>("gateway.acks", "{ack}", "Acknowledgements received from subscribers");
        _lag = meter.CreateHistogram<long>("gateway.subscriber.lag", "{event}", "Events delivered but not yet acknowledged, at each ack");
        _coalesced = meter.CreateCounter<long>("gateway.deltas.coalesced", "{event}", "Token deltas merged into another queued delta for a slow subscriber");
        _slowConsumers = meter.CreateCounter<long>("gateway.subscribers.slow_consumer", "{subscription}", "Subscriptions ended for falling past the outbound hard limit");
        _replays = meter.CreateCounter<long>("gateway.replay.requests", "{request}", "Subscriptions served a transcript from the tail or the durable record");
    }

    public void Delivered(string transport) => _delivered.Add(1, new KeyValuePair<string, object?>("transport", transport));

    public void Acknowledged(long lag)
    {
        _acks.Add(1);
        _lag.Record(lag);
    }

    public void DeltaCoalesced() => _coalesced.Add(1);

    public void SlowConsumerDisconnected() => _slowConsumers.Add(1);

    /// <param name="source">"tail" (retained events after a known cursor), "reset-tail" or "durable".</param>
    public void Replay(string source) => _replays.Add(1, new KeyValuePair<string, object?>("source", source));
}
