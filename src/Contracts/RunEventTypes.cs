namespace AgentOrchestrator.Contracts;

/// <summary>The type names of run events, as clients see them.</summary>
public static class RunEventTypes
{
    /// <summary>The run started.</summary>
    public const string RunStarted = "run.started";
    /// <summary>A step attempt started.</summary>
    public const string StepStarted = "step.started";
    /// <summary>A delta of a step's streamed text.</summary>
    public const string Token = "token";
    /// <summary>An agent called a tool.</summary>
    public const string ToolCall = "tool.call";
    /// <summary>A tool call's result or error.</summary>
    public const string ToolResult = "tool.result";
    /// <summary>A step attempt failed and will be retried; the next attempt's text replaces it.</summary>
    public const string StepRetrying = "step.retrying";

    /// <summary>The step attempt waits (tenant budget, concurrency, or the model's rate limit) and will be retried as a new attempt.</summary>
    public const string StepWaiting = "step.waiting";
    /// <summary>A step finished with its final text.</summary>
    public const string StepCompleted = "step.completed";
    /// <summary>The flow waits for a person's answer (<see cref="InputRequestedData"/>).</summary>
    public const string InputRequested = "input.requested";
    /// <summary>The run finished with its result.</summary>
    public const string RunCompleted = "run.completed";
    /// <summary>The run failed.</summary>
    public const string RunFailed = "run.failed";
    /// <summary>The run was canceled.</summary>
    public const string RunCanceled = "run.canceled";

    /// <summary>Synthetic, from a gateway: the cursor is unknown; discard this run's state, the whole transcript follows.</summary>
    public const string StreamReset = "stream.reset";
}
