using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentOrchestrator.Client;

/// <summary>
/// The answer to a start: the run id, whether this call started it (false: the idempotency key's run already existed),
/// and the run's trace id when the gateway records traces (null otherwise, and when <paramref name="Created"/> is false).
/// </summary>
public sealed record StartedRun(string RunId, bool Created, string? TraceId = null);

/// <summary>A run as GET /v1/runs/{runId} describes it.</summary>
public sealed record RunInfo
{
    /// <summary>The run id.</summary>
    public required string RunId { get; init; }

    /// <summary>The flow the run executes.</summary>
    public required string Flow { get; init; }

    /// <summary>running, completed, failed, canceled, terminated or timed_out.</summary>
    public required string Status { get; init; }

    /// <summary>The run's result when completed (a JSON string for text flows).</summary>
    public JsonElement? Result { get; init; }

    /// <summary>The result as text when it is a JSON string, else null.</summary>
    [JsonIgnore]
    public string? ResultText => Result is { ValueKind: JsonValueKind.String } text ? text.GetString() : null;
}

internal sealed record CreateRunBody(string Flow, string Input);

internal sealed record CreateRunAnswer(string RunId, string? TraceId);

internal sealed record ProvideInputBody(string RequestId, JsonElement Answer);

/// <summary>A client message on the plain WebSocket endpoint (/v1/ws).</summary>
internal sealed record WebSocketRequestBody(string Type, string? RequestId, string? RunId, string? Cursor);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateRunBody))]
[JsonSerializable(typeof(CreateRunAnswer))]
[JsonSerializable(typeof(RunInfo))]
[JsonSerializable(typeof(ProvideInputBody))]
[JsonSerializable(typeof(WebSocketRequestBody))]
[JsonSerializable(typeof(AgentOrchestrator.Contracts.RunEvent))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
