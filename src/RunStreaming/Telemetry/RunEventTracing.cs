using System.Diagnostics;

namespace AgentOrchestrator.RunStreaming.Telemetry;

/// <summary>
/// Spans of the run-event path, so a run's trace follows its events from the worker activity that published them to
/// the gateway that received them: "run-events publish" (Producer, under the publishing activity's span) and
/// "run-events receive" (Consumer, a child of the publish, carried as a W3C traceparent).
/// </summary>
internal static class RunEventTracing
{
    public static readonly ActivitySource Source = new("AgentOrchestrator.RunStreaming");

    public static Activity? StartPublish() => Source.StartActivity("run-events publish", ActivityKind.Producer);

    /// <summary>A Consumer span parented by the publish's traceparent (a root span without one); null when nobody listens.</summary>
    public static Activity? StartReceive(string? traceParent)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        return traceParent is not null && ActivityContext.TryParse(traceParent, traceState: null, isRemote: true, out var parent)
            ? Source.StartActivity("run-events receive", ActivityKind.Consumer, parent)
            : Source.StartActivity("run-events receive", ActivityKind.Consumer);
    }
}
