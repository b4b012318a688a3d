using System.Diagnostics.Metrics;

namespace AgentOrchestrator.RunStreaming.Telemetry;

/// <summary>
/// Per-tenant delivery instruments on the gateway's meter (tag "tenant"): what each tenant was sent, how long the
/// <see cref="DeliveryScheduler"/> held its sends, its share of the bytes sent while tenants contended, and the latency a
/// person sees (time to first token, inter-token gaps).
/// </summary>
internal sealed class TenantDeliveryMetrics
{
    /// <summary>Length of the window a fairness share is measured over.</summary>
    public static readonly TimeSpan ShareWindow = TimeSpan.FromSeconds(5);

    private readonly Counter<long> _bytes;
    private readonly Counter<long> _events;
    private readonly Histogram<double> _wait;
    private readonly Counter<long> _contendedBytes;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _interToken;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Dictionary<string, long> _window = new(StringComparer.Ordinal);
    private long _windowStart;
    private KeyValuePair<string, object?>[][] _lastShareTags = [];
    private double[] _lastShares = [];
    private long _lastWindowEnd;

    public TenantDeliveryMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _time = time;
        _windowStart = time.GetTimestamp();
        var meter = meterFactory.Create(DeliveryMetrics.MeterName);
        _bytes = meter.CreateCounter<long>("gateway.tenant.delivered.bytes", "By", "Estimated JSON bytes of the run events sent to the tenant's subscribers");
        _events = meter.CreateCounter<long>("gateway.tenant.delivered.events", "{event}", "Run events sent to the tenant's subscribers");
        _wait = meter.CreateHistogram<double>("gateway.delivery.scheduler.wait", "ms", "Time a send waited for the delivery scheduler (recorded when a capacity is configured)");
        _contendedBytes = meter.CreateCounter<long>("gateway.delivery.contended.bytes", "By", "Bytes the scheduler granted the tenant while sends were queued for capacity");
        meter.CreateObservableGauge("gateway.delivery.fair_share", ObserveShares, "1",
            "The tenant's share of the bytes granted while contended, over the last complete window of 5 s (absent when not contended)");
        _timeToFirstToken = meter.CreateHistogram<double>("gateway.time_to_first_token", "ms",
            "Run start accepted at this gateway (or run.started, for runs started elsewhere) to the first token sent to a subscriber that waited for it");
        _interToken = meter.CreateHistogram<double>("gateway.inter_token_latency", "ms", "Gap between consecutive live token events sent to one subscriber");
    }

    public void Delivered(string tenant, long bytes)
    {
        var tag = Tenant(tenant);
        _bytes.Add(bytes, tag);
        _events.Add(1, tag);
    }

    public void Waited(string tenant, TimeSpan wait) => _wait.Record(wait.TotalMilliseconds, Tenant(tenant));

    public void TimeToFirstToken(string tenant, TimeSpan latency) => _timeToFirstToken.Record(latency.TotalMilliseconds, Tenant(tenant));

    public void InterToken(string tenant, TimeSpan gap) => _interToken.Record(gap.TotalMilliseconds, Tenant(tenant));

    /// <summary>Bytes granted from the scheduler's queue (capacity was contended).</summary>
    public void Contended(string tenant, long bytes)
    {
        _contendedBytes.Add(bytes, Tenant(tenant));
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_time.GetElapsedTime(_windowStart, now) >= ShareWindow)
            {
                CloseWindowLocked(now);
            }
            _window[tenant] = _window.GetValueOrDefault(tenant) + bytes;
        }
    }

    private void CloseWindowLocked(long now)
    {
        var total = 0L;
        foreach (var bytes in _window.Values)
        {
            total += bytes;
        }
        var tags = new KeyValuePair<string, object?>[_window.Count][];
        var shares = new double[_window.Count];
        var i = 0;
        foreach (var (tenant, bytes) in _window)
        {
            tags[i] = [new("tenant", tenant)];
            shares[i++] = (double)bytes / total;
        }
        _lastShareTags = tags;
        _lastShares = shares;
        _lastWindowEnd = now;
        _window = new Dictionary<string, long>(StringComparer.Ordinal);
        _windowStart = now;
    }

    private IEnumerable<Measurement<double>> ObserveShares()
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (_window.Count > 0 && _time.GetElapsedTime(_windowStart, now) >= ShareWindow)
            {
                CloseWindowLocked(now);
            }
            // A window that closed long ago describes a contention that is over.
            if (_lastShares.Length == 0 || _time.GetElapsedTime(_lastWindowEnd) > 2 * ShareWindow)
            {
                return [];
            }
            var measurements = new Measurement<double>[_lastShares.Length];
            for (var i = 0; i < measurements.Length; i++)
            {
                measurements[i] = new Measurement<double>(_lastShares[i], _lastShareTags[i]);
            }
            return measurements;
        }
    }

    private static KeyValuePair<string, object?> Tenant(string tenant) => new("tenant", tenant);
}
