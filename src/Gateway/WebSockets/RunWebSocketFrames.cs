using System.Text.Json;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Gateway.WebSockets;

/// <summary>The gateway's messages on /v1/ws, written straight into pooled buffers (docs/protocol.md, "Plain WebSocket").</summary>
internal static class RunWebSocketFrames
{
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static PooledFrame Event(RunEvent runEvent)
    {
        var frame = new PooledFrame(((runEvent.Text?.Length ?? 0) * 3) + 512);
        var writer = Begin(frame, "event");
        writer.WritePropertyName("event");
        JsonSerializer.Serialize(writer, runEvent, RunWebSocketJsonContext.Default.RunEvent);
        return End(writer, frame);
    }

    /// <summary>
    /// A subscription ended: after its terminal event (no code), or early with the code that ended it (slow_consumer,
    /// unavailable: subscribe again with the cursor). Error frames are only ever answers to a client's message.
    /// </summary>
    public static PooledFrame End(string runId, string? code = null, string? message = null)
    {
        var frame = new PooledFrame();
        var writer = Begin(frame, "end");
        writer.WriteString("runId", runId);
        WriteOptional(writer, "code", code);
        WriteOptional(writer, "message", message);
        return End(writer, frame);
    }

    /// <summary>subscribed, unsubscribed, acked, pong, ping: a type and what identifies the answer.</summary>
    public static PooledFrame Answer(string type, string? requestId, string? runId = null, string? subscriptionId = null)
    {
        var frame = new PooledFrame();
        var writer = Begin(frame, type);
        WriteOptional(writer, "requestId", requestId);
        WriteOptional(writer, "runId", runId);
        WriteOptional(writer, "subscriptionId", subscriptionId);
        return End(writer, frame);
    }

    public static PooledFrame Error(string? requestId, string? runId, string code, string message, string? field = null, int? retryAfterSeconds = null)
    {
        var frame = new PooledFrame();
        var writer = Begin(frame, "error");
        WriteOptional(writer, "requestId", requestId);
        WriteOptional(writer, "runId", runId);
        writer.WriteString("code", code);
        writer.WriteString("message", message);
        WriteOptional(writer, "field", field);
        if (retryAfterSeconds is { } seconds)
        {
            writer.WriteNumber("retryAfterSeconds", seconds);
        }
        return End(writer, frame);
    }

    private static Utf8JsonWriter Begin(PooledFrame frame, string type)
    {
        var writer = t_writer ??= new Utf8JsonWriter(frame);
        writer.Reset(frame);
        writer.WriteStartObject();
        writer.WriteString("type", type);
        return writer;
    }

    private static PooledFrame End(Utf8JsonWriter writer, PooledFrame frame)
    {
        writer.WriteEndObject();
        writer.Flush();
        writer.Reset(Stream.Null); // the frame's buffer returns to the pool after its send: keep no reference to it
        return frame;
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }
}
