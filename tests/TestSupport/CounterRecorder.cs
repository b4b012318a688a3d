using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// Records every measurement of one long counter of one host's meters (scoped by its <see cref="IMeterFactory"/>, so
/// other hosts in the test process are not counted), in arrival order, with its tags.
/// </summary>
public sealed class CounterRecorder : IDisposable
{
    private readonly MeterListener _listener;
    private readonly ConcurrentQueue<CounterMeasurement> _measurements = new();

    private CounterRecorder(IMeterFactory meters, string instrumentName, string? meterName)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Name == instrumentName
                    && (meterName is null || instrument.Meter.Name == meterName))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var copied = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var tag in tags)
            {
                copied[tag.Key] = tag.Value as string;
            }
            _measurements.Enqueue(new CounterMeasurement(value, copied));
        });
        _listener.Start();
    }

    /// <summary>What was recorded so far, oldest first.</summary>
    public IReadOnlyList<CounterMeasurement> Measurements => [.. _measurements];

    /// <summary>Starts recording <paramref name="instrumentName"/> (of <paramref name="meterName"/> when given) of the host owning <paramref name="meters"/>.</summary>
    public static CounterRecorder Start(IMeterFactory meters, string instrumentName, string? meterName = null) =>
        new(meters, instrumentName, meterName);

    public void Dispose() => _listener.Dispose();
}

/// <summary>One counter measurement and its string tags.</summary>
public sealed record CounterMeasurement(long Value, IReadOnlyDictionary<string, string?> Tags)
{
    public string? Tag(string key) => Tags.GetValueOrDefault(key);
}
