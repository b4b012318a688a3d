using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentOrchestrator.Gateway.WebSockets;

/// <summary>One client message on /v1/ws (docs/protocol.md, "Plain WebSocket"); unknown fields are refused, not ignored.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class RunWebSocketRequest
{
    public const string Subscribe = "subscribe";
    public const string Ack = "ack";
    public const string Unsubscribe = "unsubscribe";
    public const string Ping = "ping";
    public const int MaxRequestIdLength = 64;

    public string? Type { get; init; }

    /// <summary>Chosen by the client; the answer to this message carries it back.</summary>
    public string? RequestId { get; init; }

    public string? RunId { get; init; }

    public string? Cursor { get; init; }

    public string? SubscriptionId { get; init; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunWebSocketRequest))]
[JsonSerializable(typeof(AgentOrchestrator.Contracts.RunEvent))]
internal sealed partial class RunWebSocketJsonContext : JsonSerializerContext;
