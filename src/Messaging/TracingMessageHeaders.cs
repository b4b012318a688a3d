using System.Diagnostics;
using System.Text;

namespace AgentOrchestrator.Messaging;

/// <summary>
/// Trace context in messages read without MassTransit (the gateway's run-event stream reader). MassTransit's publish
/// puts its span's W3C id in the transport header "MT-Activity-Id" (its DiagnosticHeaders.ActivityId); a reader that
/// continues from it makes its span a child of the publish, as MassTransit's own consumers do.
/// </summary>
public static class TracingMessageHeaders
{
    /// <summary>The header MassTransit 8 writes the publishing span's id to.</summary>
    public const string MassTransitActivityId = "MT-Activity-Id";

    /// <summary>
    /// Starts a Consumer span named <paramref name="name"/> on <paramref name="source"/>, parented by the publisher's
    /// span when the headers carry one (a root span otherwise). Null when nobody listens to the source.
    /// </summary>
    public static Activity? StartConsumeActivity(ActivitySource source, string name, IDictionary<string, object?>? headers)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!source.HasListeners())
        {
            return null;
        }
        var parent = headers is not null && headers.TryGetValue(MassTransitActivityId, out var value) ? AsString(value) : null;
        return parent is not null && ActivityContext.TryParse(parent, traceState: null, isRemote: true, out var context)
            ? source.StartActivity(name, ActivityKind.Consumer, context)
            : source.StartActivity(name, ActivityKind.Consumer);
    }

    // AMQP delivers string headers as byte arrays (long strings).
    private static string? AsString(object? value) => value switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string text => text,
        _ => null,
    };
}
