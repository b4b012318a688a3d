namespace AgentOrchestrator.Contracts;

/// <summary>The type names of run events, as clients see them.</summary>
public static class RunEventTypes
{
    public const string RunStarted = "run.started";
    public const string StepStarted = "step.started";
    public const string Token = "token";
    public const string ToolCall = "tool.call";
    public const string ToolResult = "tool.result";
    public const string StepRetrying = "step.retrying";

    /// <summary>The step attempt waits (tenant budget, concurrency, or the model's rate limit) and will be retried as a new attempt.</summary>
    public const string StepWaiting = "step.waiting";
    public const string StepCompleted = "step.completed";
    public const string InputRequested = "input.requested";
    public const string RunCompleted = "run.completed";
    public const string RunFailed = "run.failed";
    public const string RunCanceled = "run.canceled";

    /// <summary>Synthetic, from a gateway: the cursor is unknown; discard this run's state, the whole transcript follows.</summary>
    public const string StreamReset = "stream.reset";
}
