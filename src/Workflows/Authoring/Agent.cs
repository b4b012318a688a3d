using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows.Authoring;

/// <summary>
/// An agent: a name, its system instructions, model settings, the tools it may call (Semantic Kernel functions
/// registered on the worker, named "Plugin-Function") and how many model turns one run of it may take.
/// </summary>
public sealed record Agent
{
    /// <summary>The agent's name: the step id of its first model turn, as subscribers see it.</summary>
    public required string Name { get; init; }

    /// <summary>The agent's system instructions.</summary>
    public required string Instructions { get; init; }

    /// <summary>Model name; null uses the worker's default.</summary>
    public string? Model { get; init; }

    /// <summary>Sampling temperature; null uses the model's default.</summary>
    public double? Temperature { get; init; }

    /// <summary>Tools the model may call, named "Plugin-function" as registered on the worker.</summary>
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
    /// <summary>The agent's name.</summary>
    public required string Agent { get; init; }

    /// <summary>The step id of the agent's first model turn (later turns and tool calls are "{Step}.turnN" / "{Step}.toolN.M").</summary>
    public required string Step { get; init; }

    /// <summary>The agent's final answer.</summary>
    public required string Text { get; init; }

    /// <summary>Prompt tokens of all its model turns.</summary>
    public int PromptTokens { get; init; }

    /// <summary>Completion tokens of all its model turns.</summary>
    public int CompletionTokens { get; init; }

    /// <summary>How many model turns it took.</summary>
    public int ModelTurns { get; init; }
}

/// <summary>Failure types (ApplicationFailureException.ErrorType) the library raises; all are non-retryable.</summary>
public static class AgentFailures
{
    /// <summary>The model still asked for tools on the agent's last allowed turn.</summary>
    public const string MaxIterationsExceeded = "AgentMaxIterationsExceeded";
    /// <summary>A router or supervisor handed off to an agent it was not offered.</summary>
    public const string InvalidHandoff = "AgentInvalidHandoff";
    /// <summary>More fan-out branches failed than the policy allows.</summary>
    public const string FanOutFailed = "AgentFanOutFailed";
    /// <summary>The model called a built-in Flow-* tool where the pattern in use does not handle it.</summary>
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
