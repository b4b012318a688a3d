using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentOrchestrator.ModelSimulator.Protocol;

// Streaming shapes ("object": "chat.completion.chunk").

internal sealed class ChatCompletionChunk
{
    public required string Id { get; init; }

    public string Object { get; init; } = "chat.completion.chunk";

    public required long Created { get; init; }

    public required string Model { get; init; }

    public string SystemFingerprint { get; init; } = ChatProtocol.SystemFingerprint;

    public required IReadOnlyList<ChunkChoice> Choices { get; init; }

    public Usage? Usage { get; init; }

    /// <summary>
    /// Simulator extension: when the chunk was written, in Unix-epoch microseconds, so clients can measure
    /// delivery latency. Serialized as <c>x_emitted_at_us</c>; OpenAI clients ignore unknown fields.
    /// </summary>
    public long XEmittedAtUs { get; set; }
}

internal sealed class ChunkChoice
{
    public int Index { get; init; }

    public required ChunkDelta Delta { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public JsonElement? Logprobs { get; init; }

    // Null on every chunk but the last one, as OpenAI sends it.
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }
}

internal sealed class ChunkDelta
{
    public string? Role { get; init; }

    public string? Content { get; init; }

    public IReadOnlyList<ToolCallDelta>? ToolCalls { get; init; }
}

internal sealed class ToolCallDelta
{
    public int Index { get; init; }

    public string? Id { get; init; }

    public string? Type { get; init; }

    public FunctionCall? Function { get; init; }
}
