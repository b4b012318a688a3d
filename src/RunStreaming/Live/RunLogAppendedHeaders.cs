using System.Globalization;
using System.Text;

namespace AgentOrchestrator.RunStreaming.Live;

/// <summary>How a live entry's position travels on a RabbitMQ message (the body is the message's JSON, as in the log).</summary>
internal static class RunLogAppendedHeaders
{
    public const string Epoch = "ao-epoch";
    public const string Seq = "ao-seq";

    /// <summary>The W3C trace context header.</summary>
    public const string TraceParent = "traceparent";

    public static Dictionary<string, object?> For(RunLogAppended appended)
    {
        var headers = new Dictionary<string, object?>(3)
        {
            [Epoch] = appended.Epoch,
            [Seq] = appended.Seq,
        };
        if (appended.TraceParent is { } traceParent)
        {
            headers[TraceParent] = traceParent;
        }
        return headers;
    }

    /// <summary>The traceparent header, if the message carries one.</summary>
    public static string? ReadTraceParent(IDictionary<string, object?>? headers) =>
        headers is not null && headers.TryGetValue(TraceParent, out var value) ? AsString(value) : null;

    /// <summary>The epoch and sequence number of a delivered message; false when either is missing or malformed.</summary>
    public static bool TryRead(IDictionary<string, object?>? headers, out string epoch, out long seq)
    {
        epoch = string.Empty;
        seq = 0;
        if (headers is null || !headers.TryGetValue(Epoch, out var rawEpoch) || !headers.TryGetValue(Seq, out var rawSeq))
        {
            return false;
        }
        epoch = AsString(rawEpoch) ?? string.Empty;
        seq = rawSeq switch
        {
            long value => value,
            int value => value,
            byte[] bytes when long.TryParse(Encoding.UTF8.GetString(bytes), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => 0,
        };
        return epoch.Length > 0 && seq > 0;
    }

    // AMQP delivers string headers as byte arrays (long strings).
    private static string? AsString(object? value) => value switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string text => text,
        _ => null,
    };
}
