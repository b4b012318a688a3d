using System.Text.Json;

namespace AgentOrchestrator.Contracts;

/// <summary>Roles of <see cref="AgentMessage"/>: the conversation an agent loop keeps between model turns.</summary>
public static class AgentMessageRoles
{
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string Tool = "tool";
}

/// <summary>
/// A tool call the model asked for. <see cref="Tool"/> is the Semantic Kernel function name as the model sees it
/// ("Plugin-Function"); <see cref="Arguments"/> is the JSON object text the model produced.
/// </summary>
public sealed record AgentToolCall
{
    public required string CallId { get; init; }

    public required string Tool { get; init; }

    public required string Arguments { get; init; }
}

/// <summary>
/// One message of an agent's conversation: a user prompt, an assistant answer (text and/or tool calls) or a tool
/// result (<see cref="ToolCallId"/> and <see cref="Tool"/> set, the result in <see cref="Text"/>).
/// </summary>
public sealed record AgentMessage
{
    public required string Role { get; init; }

    public string? Text { get; init; }

    public IReadOnlyList<AgentToolCall>? ToolCalls { get; init; }

    public string? ToolCallId { get; init; }

    public string? Tool { get; init; }
}

/// <summary>
/// One model call of an agent loop (activity <c>agent.model-turn</c>): streamed like <see cref="AgentStepInput"/>,
/// with the conversation so far and the tools the model may call (never invoked by the model call itself).
/// </summary>
public sealed record ModelTurnInput
{
    public required string RunId { get; init; }

    public required string TenantId { get; init; }

    /// <summary>Step id, unique within the run (the authoring library numbers repeated turns).</summary>
    public required string Step { get; init; }

    public required string Agent { get; init; }

    public required string Instructions { get; init; }

    public required IReadOnlyList<AgentMessage> Messages { get; init; }

    /// <summary>Tool names ("Plugin-Function") registered on the worker that the model may ask for.</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];

    /// <summary>Model name; null uses the worker's configured default.</summary>
    public string? Model { get; init; }

    public double? Temperature { get; init; }
}

/// <summary>A model turn's outcome: the final text, or the tool calls the model asked for (then Text may be empty).</summary>
public sealed record ModelTurnResult
{
    public required string Text { get; init; }

    public IReadOnlyList<AgentToolCall> ToolCalls { get; init; } = [];

    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }
}

/// <summary>One tool call, run as its own activity (<c>agent.tool-call</c>) with its own retry policy.</summary>
public sealed record ToolCallInput
{
    public required string RunId { get; init; }

    public required string TenantId { get; init; }

    /// <summary>Step id of the tool call, unique within the run.</summary>
    public required string Step { get; init; }

    public required string Agent { get; init; }

    public required AgentToolCall Call { get; init; }
}

/// <summary>The tool's result as text, as the model will read it.</summary>
public sealed record ToolCallResult
{
    public required string CallId { get; init; }

    public required string Tool { get; init; }

    public required string Result { get; init; }
}

/// <summary><see cref="RunEvent.Data"/> of a tool.call event.</summary>
public sealed record ToolCallData(string CallId, string Tool, JsonElement Arguments);

/// <summary><see cref="RunEvent.Data"/> of a tool.result event: <see cref="Result"/> or <see cref="Error"/>.</summary>
public sealed record ToolResultData(string CallId, string Tool, string? Result, string? Error);
