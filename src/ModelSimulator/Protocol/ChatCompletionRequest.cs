using System.Text.Json;

namespace AgentOrchestrator.ModelSimulator.Protocol;

// The subset of the OpenAI Chat Completions request the simulator reads; unknown fields are ignored.

internal sealed class ChatCompletionRequest
{
    public string? Model { get; init; }

    public IReadOnlyList<ChatMessage?>? Messages { get; init; }

    public bool? Stream { get; init; }

    public StreamOptions? StreamOptions { get; init; }

    public long? Seed { get; init; }

    public IReadOnlyList<ToolDefinition?>? Tools { get; init; }

    public int? MaxTokens { get; init; }

    public int? MaxCompletionTokens { get; init; }
}

internal sealed class ChatMessage
{
    public string? Role { get; init; }

    /// <summary>A string, an array of content parts, or null (assistant messages with tool calls).</summary>
    public JsonElement Content { get; init; }

    public string? Name { get; init; }

    public string? ToolCallId { get; init; }

    public IReadOnlyList<ToolCall?>? ToolCalls { get; init; }
}

internal sealed class StreamOptions
{
    public bool? IncludeUsage { get; init; }
}

internal sealed class ToolDefinition
{
    public string? Type { get; init; }

    public FunctionDefinition? Function { get; init; }
}

internal sealed class FunctionDefinition
{
    public string? Name { get; init; }
}
