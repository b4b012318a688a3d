using System.Diagnostics;
using Temporalio.Api.Common.V1;
using Temporalio.Converters;

namespace AgentOrchestrator.ServiceDefaults.Telemetry;

/// <summary>
/// W3C trace context (traceparent, tracestate) carried through Temporal in the header "_tracer-data" as a JSON map: the
/// key and shape of Temporal's own OpenTelemetry interceptors, so traces also join workers written with other SDKs.
/// <see cref="TemporalTracingClientInterceptor"/> puts it there; <see cref="TemporalTracingWorkerInterceptor"/> forwards
/// it through workflows and continues it in activities. Two classes, not one implementing both interfaces: the SDK
/// also applies a client interceptor that is a worker interceptor to every worker built on that client, which would
/// wrap activities twice when the worker registers it too.
/// </summary>
public static class TemporalTracing
{
    /// <summary>Name of the ActivitySource of the client and activity spans.</summary>
    public const string SourceName = "AgentOrchestrator.Temporal";

    /// <summary>The Temporal header holding the trace context.</summary>
    public const string HeaderKey = "_tracer-data";

    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary><paramref name="headers"/> plus the header for <paramref name="activity"/>'s context; unchanged without one.</summary>
    internal static IDictionary<string, Payload>? WithContext(IDictionary<string, Payload>? headers, Activity? activity)
    {
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C || activity.Id is null)
        {
            return headers;
        }
        var context = new Dictionary<string, string> { [TraceParent] = activity.Id };
        if (!string.IsNullOrEmpty(activity.TraceStateString))
        {
            context[TraceState] = activity.TraceStateString;
        }
        var result = headers is null ? new Dictionary<string, Payload>() : new Dictionary<string, Payload>(headers);
        result[HeaderKey] = DataConverter.Default.PayloadConverter.ToPayload(context);
        return result;
    }

    /// <summary>The remote parent carried in <paramref name="headers"/>, if any and well formed.</summary>
    internal static ActivityContext? ParentFrom(IReadOnlyDictionary<string, Payload>? headers)
    {
        if (headers is null || !headers.TryGetValue(HeaderKey, out var payload))
        {
            return null;
        }
        try
        {
            var context = DataConverter.Default.PayloadConverter.ToValue<Dictionary<string, string>>(payload);
            context.TryGetValue(TraceState, out var state);
            return context.TryGetValue(TraceParent, out var parent) && ActivityContext.TryParse(parent, state, isRemote: true, out var parsed)
                ? parsed
                : null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.Text.Json.JsonException or FormatException or NotSupportedException)
        {
            // A malformed header from some other client must not fail the activity: it just starts without a parent.
            return null;
        }
    }

    internal static void Failed(Activity? activity, Exception exception)
    {
        activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity?.AddException(exception);
    }
}
