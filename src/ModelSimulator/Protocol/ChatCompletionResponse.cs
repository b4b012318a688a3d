using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentOrchestrator.ModelSimulator.Protocol;

// Non-streaming response shapes ("object": "chat.completion"), plus the parts shared with chunks.

internal sealed class ChatCompletion
{
    public required string Id { get; init; }

    public string Object { get; init; } = "chat.completion";

    public required long Created { get; init; }

    public required string Model { get; init; }

    public string SystemFingerprint { get; init; } = ChatProtocol.SystemFingerprint;

    public required IReadOnlyList<ChatCompletionChoice> Choices { get; init; }

    public required Usage Usage { get; init; }
}

internal sealed class ChatCompletionChoice
{
    public int Index { get; init; }

    public required AssistantMessage Message { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public JsonElement? Logprobs { get; init; }

    public required string FinishReason { get; init; }
}

internal sealed class AssistantMessage
{
    public string Role { get; init; } = "assistant";

    // OpenAI sends "content": null next to tool_calls, so null is written rather than omitted.
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Content { get; init; }

    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }
}

internal sealed class ToolCall
{
    public string? Id { get; init; }

    public string? Type { get; init; }

    public FunctionCall? Function { get; init; }
}

internal sealed class FunctionCall
{
    public string? Name { get; init; }

    public string? Arguments { get; init; }
}

internal sealed class Usage
{
    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }

    public int TotalTokens { get; init; }
}
