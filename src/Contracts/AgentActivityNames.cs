namespace AgentOrchestrator.Contracts;

/// <summary>
/// Names of the activities workflows call. Workflows call them by name so that they do not reference
/// the worker that implements them; the worker registers its activities under the same names.
/// </summary>
public static class AgentActivityNames
{
    /// <summary>One agent turn: streams the model's answer to the bus, returns the final text. Input <c>AgentStepInput</c>, result <c>AgentStepResult</c>.</summary>
    public const string RunAgentStep = "agent.run-step";

    /// <summary>One model call of an agent loop: streams like <see cref="RunAgentStep"/>, returns the text or the tool calls the model asked for. Input <c>ModelTurnInput</c>, result <c>ModelTurnResult</c>.</summary>
    public const string ModelTurn = "agent.model-turn";

    /// <summary>One tool call (a Semantic Kernel function on the worker), publishing tool.call and tool.result. Input <c>ToolCallInput</c>, result <c>ToolCallResult</c>.</summary>
    public const string ToolCall = "agent.tool-call";

    /// <summary>Publishes a run-level lifecycle event (run.started, run.completed, ...). Input and result <c>RunLifecycleEvent</c>
    /// (the result is what a local activity's marker keeps in history).</summary>
    public const string PublishRunEvent = "run.publish-event";
}
