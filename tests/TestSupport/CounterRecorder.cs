using System.Diagnostics.Metrics;

namespace AgentOrchestrator.TestSupport;

/// <summary>Records a long counter's measurements (<see cref="InstrumentRecorder{T}"/>).</summary>
public static class CounterRecorder
{
    /// <summary>Starts recording <paramref name="instrumentName"/> (of <paramref name="meterName"/> when given) of the host owning <paramref name="meters"/>.</summary>
    public static InstrumentRecorder<long> Start(IMeterFactory meters, string instrumentName, string? meterName = null) =>
        new(meters, instrumentName, meterName);
}
