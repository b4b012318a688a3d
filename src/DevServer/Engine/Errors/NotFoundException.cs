namespace AgentOrchestrator.DevServer.Engine.Errors;

/// <summary>The workflow, run, task or update named by the request does not exist (any more).</summary>
internal sealed class NotFoundException(string message) : EngineException(message)
{
    public static NotFoundException Workflow(string workflowId, string? runId) =>
        new(string.IsNullOrEmpty(runId)
            ? $"workflow execution not found for workflow ID \"{workflowId}\""
            : $"workflow execution not found for workflow ID \"{workflowId}\" and run ID \"{runId}\"");

    /// <summary>The run exists but is closed (the SDK reads NOT_FOUND on a heartbeat as "cancel").</summary>
    public static NotFoundException WorkflowCompleted() => new("workflow execution already completed");
}
