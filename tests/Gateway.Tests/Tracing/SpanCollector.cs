using System.Collections.Concurrent;
using System.Diagnostics;

namespace AgentOrchestrator.Gateway.Tests.Tracing;

/// <summary>
/// Records every finished span of the sources a run's trace crosses, as an exporter would see them. The listener is
/// process-wide, so tests pick their spans by trace id.
/// </summary>
public sealed class SpanCollector : IDisposable
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    public SpanCollector()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("AgentOrchestrator.", StringComparison.Ordinal)
                || source.Name is "MassTransit" or "Microsoft.AspNetCore" or "Microsoft.AspNetCore.SignalR.Server",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> InTrace(ActivityTraceId traceId) => _spans.Where(s => s.TraceId == traceId).ToList();

    public IReadOnlyList<Activity> All => _spans.ToList();

    public void Dispose() => _listener.Dispose();
}
