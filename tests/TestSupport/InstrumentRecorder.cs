using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// Records every measurement of one instrument (a counter or histogram of <typeparamref name="T"/>) of one host's meters
/// (scoped by its <see cref="IMeterFactory"/>, so other hosts in the test process are not counted), in arrival order,
/// with its tags.
/// </summary>
public sealed class InstrumentRecorder<T> : IDisposable
    where T : struct
{
    private readonly MeterListener _listener;
    private readonly ConcurrentQueue<RecordedMeasurement<T>> _measurements = new();

    /// <summary>Starts recording <paramref name="instrumentName"/> (of <paramref name="meterName"/> when given) of the host owning <paramref name="meters"/>.</summary>
    public InstrumentRecorder(IMeterFactory meters, string instrumentName, string? meterName = null)
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
        _listener.SetMeasurementEventCallback<T>((_, value, tags, _) =>
        {
            var copied = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var tag in tags)
            {
                copied[tag.Key] = tag.Value as string;
            }
            _measurements.Enqueue(new RecordedMeasurement<T>(value, copied));
        });
        _listener.Start();
    }

    /// <summary>What was recorded so far, oldest first.</summary>
    public IReadOnlyList<RecordedMeasurement<T>> Measurements => [.. _measurements];

    public void Dispose() => _listener.Dispose();
}

/// <summary>One measurement and its string tags.</summary>
public sealed record RecordedMeasurement<T>(T Value, IReadOnlyDictionary<string, string?> Tags)
{
    public string? Tag(string key) => Tags.GetValueOrDefault(key);
}
