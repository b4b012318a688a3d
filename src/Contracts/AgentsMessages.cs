using System.Text.Json;

namespace AgentOrchestrator.Contracts;

/// <summary>Roles of <see cref="AgentMessage"/>: the conversation an agent loop keeps between model turns.</summary>
public static class AgentMessageRoles
{
    /// <summary>A prompt.</summary>
    public const string User = "user";
    /// <summary>The model's answer: text and/or tool calls.</summary>
    public const string Assistant = "assistant";
    /// <summary>A tool's result.</summary>
    public const string Tool = "tool";
}

/// <summary>
/// A tool call the model asked for. <see cref="Tool"/> is the Semantic Kernel function name as the model sees it
/// ("Plugin-Function"); <see cref="Arguments"/> is the JSON object text the model produced.
/// </summary>
public sealed record AgentToolCall
{
    /// <summary>The model's id of this call, echoed with its result.</summary>
    public required string CallId { get; init; }

    /// <summary>The function as the model names it ("Plugin-Function").</summary>
    public required string Tool { get; init; }

    /// <summary>The arguments as JSON object text.</summary>
    public required string Arguments { get; init; }
}

/// <summary>
/// One message of an agent's conversation: a user prompt, an assistant answer (text and/or tool calls) or a tool
/// result (<see cref="ToolCallId"/> and <see cref="Tool"/> set, the result in <see cref="Text"/>).
/// </summary>
public sealed record AgentMessage
{
    /// <summary>One of <see cref="AgentMessageRoles"/>.</summary>
    public required string Role { get; init; }

    /// <summary>The message text; a tool message's result.</summary>
    public string? Text { get; init; }

    /// <summary>An assistant message's tool calls.</summary>
    public IReadOnlyList<AgentToolCall>? ToolCalls { get; init; }

    /// <summary>A tool message: the call it answers.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>A tool message: the tool that answered.</summary>
    public string? Tool { get; init; }
}

/// <summary>
/// One model call of an agent loop (activity <c>agent.model-turn</c>): streamed like <see cref="AgentStepInput"/>,
/// with the conversation so far and the tools the model may call (never invoked by the model call itself).
/// </summary>
public sealed record ModelTurnInput
{
    /// <summary>The run the turn belongs to.</summary>
    public required string RunId { get; init; }

    /// <summary>The run's tenant (budgets, event routing).</summary>
    public required string TenantId { get; init; }

    /// <summary>Step id, unique within the run (the authoring library numbers repeated turns).</summary>
    public required string Step { get; init; }

    /// <summary>The agent's name, as subscribers see it.</summary>
    public required string Agent { get; init; }

    /// <summary>The agent's system instructions.</summary>
    public required string Instructions { get; init; }

    /// <summary>The conversation so far, oldest first.</summary>
    public required IReadOnlyList<AgentMessage> Messages { get; init; }

    /// <summary>Tool names ("Plugin-Function") registered on the worker that the model may ask for.</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];

    /// <summary>Model name; null uses the worker's configured default.</summary>
    public string? Model { get; init; }

    /// <summary>Sampling temperature; null uses the model's default.</summary>
    public double? Temperature { get; init; }
}

/// <summary>A model turn's outcome: the final text, or the tool calls the model asked for (then Text may be empty).</summary>
public sealed record ModelTurnResult
{
    /// <summary>The answer text (may be empty when the model asked for tools).</summary>
    public required string Text { get; init; }

    /// <summary>The tool calls the model asked for.</summary>
    public IReadOnlyList<AgentToolCall> ToolCalls { get; init; } = [];

    /// <summary>Prompt tokens the model reported.</summary>
    public int PromptTokens { get; init; }

    /// <summary>Completion tokens the model reported.</summary>
    public int CompletionTokens { get; init; }
}

/// <summary>One tool call, run as its own activity (<c>agent.tool-call</c>) with its own retry policy.</summary>
public sealed record ToolCallInput
{
    /// <summary>The run the call belongs to.</summary>
    public required string RunId { get; init; }

    /// <summary>The run's tenant.</summary>
    public required string TenantId { get; init; }

    /// <summary>Step id of the tool call, unique within the run.</summary>
    public required string Step { get; init; }

    /// <summary>The agent that asked for the call.</summary>
    public required string Agent { get; init; }

    /// <summary>The call as the model asked for it.</summary>
    public required AgentToolCall Call { get; init; }
}

/// <summary>The tool's result as text, as the model will read it.</summary>
public sealed record ToolCallResult
{
    /// <summary>The call this answers.</summary>
    public required string CallId { get; init; }

    /// <summary>The tool that ran.</summary>
    public required string Tool { get; init; }

    /// <summary>The result text.</summary>
    public required string Result { get; init; }
}

/// <summary><see cref="RunEvent.Data"/> of a tool.call event.</summary>
public sealed record ToolCallData(string CallId, string Tool, JsonElement Arguments);

/// <summary><see cref="RunEvent.Data"/> of a tool.result event: <see cref="Result"/> or <see cref="Error"/>.</summary>
public sealed record ToolResultData(string CallId, string Tool, string? Result, string? Error);
