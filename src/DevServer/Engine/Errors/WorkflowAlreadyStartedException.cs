namespace AgentOrchestrator.DevServer.Engine.Errors;

/// <summary>A start refused by the id reuse or conflict policy; names the run that holds the id.</summary>
internal sealed class WorkflowAlreadyStartedException(string message, string startRequestId, string runId) : EngineException(message)
{
    public string StartRequestId { get; } = startRequestId;

    public string RunId { get; } = runId;
}
