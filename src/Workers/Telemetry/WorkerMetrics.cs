using System.Diagnostics.Metrics;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Workers.Telemetry;

/// <summary>
/// Worker instruments on meter "AgentOrchestrator.Workers": activity retries and failures, model call duration and
/// tokens, and the hops of a token delta's path the worker sees. Tenants come from the run's workflow id or input (set by the gateway from an authenticated principal) and
/// models from flow definitions and configuration, so both tags are bounded.
/// </summary>
public sealed class WorkerMetrics
{
    /// <summary>The meter's name, for OpenTelemetry's AddMeter.</summary>
    public const string MeterName = "AgentOrchestrator.Workers";

    /// <summary>Tenant tag of an activity whose workflow id carries no tenant (not started through the gateway).</summary>
    public const string UnknownTenant = "unknown";

    private static readonly double[] ModelCallBucketsMs = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000, 30000, 60000, 120000, 300000];

    private readonly Counter<long> _retries;
    private readonly Counter<long> _failures;
    private readonly Histogram<double> _modelCallDuration;
    private readonly Counter<long> _modelTokens;
    private readonly Histogram<double> _tokenHops;
    private readonly TimeProvider _time;

    /// <summary>Creates the instruments on a meter of <paramref name="meterFactory"/>.</summary>
    public WorkerMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _time = time;
        var meter = meterFactory.Create(MeterName);
        _retries = meter.CreateCounter<long>("worker.activity.retries", "{attempt}",
            "Activity attempts after the first (Temporal retried the activity), by activity type and tenant");
        _failures = meter.CreateCounter<long>("worker.activity.failures", "{attempt}",
            "Activity attempts that failed (Temporal retries them unless the failure is non-retryable or attempts ran out); cancellations not included");
        _modelCallDuration = meter.CreateHistogram("worker.model.call.duration", "ms",
            "One streamed model call, from the request until the stream ended or failed, by tenant, model and outcome (ok|error|canceled)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ModelCallBucketsMs });
        _modelTokens = meter.CreateCounter<long>("worker.model.tokens", "{token}",
            "Tokens the model reported using, by tenant, model and kind (prompt|completion)");
        _tokenHops = meter.CreateHistogram("worker.token.hop", "ms",
            "One hop of a token delta's path through the worker, by hop: the point it reaches (worker.received, publish.started, publish.confirmed), from the point before it",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TokenPath.HopBucketsMs });
    }

    /// <summary>
    /// A token delta's path through this worker, its points in path order (Unix µs; a point stamped 0 was not taken
    /// and is skipped): each point after the first records one hop, from the point before it.
    /// </summary>
    internal void TokenPathTaken(ReadOnlySpan<PathStamp> points)
    {
        PathStamp? previous = null;
        foreach (PathStamp point in points)
        {
            if (point.AtUs == 0)
            {
                continue;
            }
            if (previous is not null)
            {
                _tokenHops.Record(TokenPath.HopMs(previous.AtUs, point.AtUs), new KeyValuePair<string, object?>("hop", point.Point));
            }
            previous = point;
        }
    }

    internal void ActivityRetried(string activity, string tenant) => _retries.Add(1, Tags(activity, tenant));

    internal void ActivityFailed(string activity, string tenant) => _failures.Add(1, Tags(activity, tenant));

    /// <summary>
    /// Starts timing one model call; dispose it when the call ended, after <see cref="ModelCall.Completed"/> if it
    /// succeeded. A call that ends unfinished after <paramref name="cancellationToken"/> fired counts as canceled (the
    /// run was canceled or the worker stopped), not as a model error.
    /// </summary>
    public ModelCall StartModelCall(string tenant, string model, CancellationToken cancellationToken) =>
        new(this, tenant, model, _time.GetTimestamp(), cancellationToken);

    private static KeyValuePair<string, object?>[] Tags(string activity, string tenant) =>
        [new("activity", activity), new("tenant", tenant)];

    /// <summary>One model call being measured.</summary>
    public sealed class ModelCall : IDisposable
    {
        private readonly WorkerMetrics _metrics;
        private readonly string _tenant;
        private readonly string _model;
        private readonly long _started;
        private readonly CancellationToken _cancellationToken;
        private bool _completed;
        private bool _disposed;

        internal ModelCall(WorkerMetrics metrics, string tenant, string model, long started, CancellationToken cancellationToken)
        {
            _cancellationToken = cancellationToken;
            _metrics = metrics;
            _tenant = tenant;
            _model = model;
            _started = started;
        }

        /// <summary>The stream ended normally: counts the usage the model reported.</summary>
        public void Completed(int promptTokens, int completionTokens)
        {
            _completed = true;
            var tenant = new KeyValuePair<string, object?>("tenant", _tenant);
            var model = new KeyValuePair<string, object?>("model", _model);
            _metrics._modelTokens.Add(promptTokens, tenant, model, new KeyValuePair<string, object?>("kind", "prompt"));
            _metrics._modelTokens.Add(completionTokens, tenant, model, new KeyValuePair<string, object?>("kind", "completion"));
        }

        /// <summary>Records the call's duration (and its outcome when it did not complete).</summary>
        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _metrics._modelCallDuration.Record(_metrics._time.GetElapsedTime(_started).TotalMilliseconds,
                new KeyValuePair<string, object?>("tenant", _tenant), new KeyValuePair<string, object?>("model", _model),
                new KeyValuePair<string, object?>("outcome", _completed ? "ok" : _cancellationToken.IsCancellationRequested ? "canceled" : "error"));
        }
    }
}
