using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows.Authoring;

/// <summary>
/// An agent: a name, its system instructions, model settings, the tools it may call (Semantic Kernel functions
/// registered on the worker, named "Plugin-Function") and how many model turns one run of it may take.
/// </summary>
public sealed record Agent
{
    public required string Name { get; init; }

    public required string Instructions { get; init; }

    /// <summary>Model name; null uses the worker's default.</summary>
    public string? Model { get; init; }

    public double? Temperature { get; init; }

    public IReadOnlyList<string> Tools { get; init; } = [];

    /// <summary>Model turns one <see cref="AgentFlow.RunAgentAsync"/> may take; a model still asking for tools on the last one fails the agent with <see cref="AgentFailures.MaxIterationsExceeded"/>.</summary>
    public int MaxIterations { get; init; } = 5;

    /// <summary>
    /// Temporal options of this agent's model turns (timeouts, heartbeat timeout, retries); null uses
    /// <see cref="AgentActivityOptions.ModelCall"/>. The heartbeat timeout must stay several times the workers'
    /// Worker:HeartbeatInterval (docs/authoring-flows.md "Timeouts and retries").
    /// </summary>
    public ActivityOptions? ModelCall { get; init; }

    /// <summary>Temporal options of this agent's tool calls; null uses <see cref="AgentActivityOptions.ToolCall"/>.</summary>
    public ActivityOptions? ToolCall { get; init; }
}

/// <summary>What one agent run produced: its final text and the tokens all its model turns used.</summary>
public sealed record AgentResult
{
    public required string Agent { get; init; }

    /// <summary>The step id of the agent's first model turn (later turns and tool calls are "{Step}.turnN" / "{Step}.toolN.M").</summary>
    public required string Step { get; init; }

    public required string Text { get; init; }

    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }

    public int ModelTurns { get; init; }
}

/// <summary>Failure types (ApplicationFailureException.ErrorType) the library raises; all are non-retryable.</summary>
public static class AgentFailures
{
    public const string MaxIterationsExceeded = "AgentMaxIterationsExceeded";
    public const string InvalidHandoff = "AgentInvalidHandoff";
    public const string FanOutFailed = "AgentFanOutFailed";
    public const string UnhandledControlTool = "AgentUnhandledControlTool";
}

/// <summary>
/// Tools the worker always registers whose calls the library handles itself instead of running them: the model
/// uses them to choose (hand off, delegate, give a verdict).
/// </summary>
public static class ControlTools
{
    /// <summary>Arguments {"agent": name, "task"?: text}: hand the conversation (or a task) to another agent.</summary>
    public const string Handoff = "Flow-handoff";

    /// <summary>Arguments {"approved": bool, "feedback": text}: a critic's verdict on a draft.</summary>
    public const string Verdict = "Flow-verdict";
}
