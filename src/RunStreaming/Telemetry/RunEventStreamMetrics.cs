using System.Diagnostics.Metrics;

namespace AgentOrchestrator.RunStreaming.Telemetry;

/// <summary>Counters of the stream source on meter "AgentOrchestrator.Gateway".</summary>
internal sealed class RunEventStreamMetrics
{
    public const string MeterName = "AgentOrchestrator.Gateway";
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _reconnects;

    public RunEventStreamMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _deadLettered = meter.CreateCounter<long>("gateway.bus.dead_lettered", unit: "{message}",
            description: "Run-event stream messages that failed every processing retry and were parked in the error queue");
        _retries = meter.CreateCounter<long>("gateway.bus.processing_retries", unit: "{retry}",
            description: "Processing retries of run-event stream messages");
        _reconnects = meter.CreateCounter<long>("gateway.bus.reconnects", unit: "{reconnect}",
            description: "Lost or failed connections to the run-event stream, each followed by a reconnect attempt");
    }

    internal void DeadLettered() => _deadLettered.Add(1);

    internal void Retried() => _retries.Add(1);

    internal void Reconnected() => _reconnects.Add(1);
}
