namespace AgentOrchestrator.DevServer.Engine.Errors;

/// <summary>One operation of an update-with-start failed; the other one is reported as aborted.</summary>
internal sealed class MultiOperationException(int failedIndex, int operationCount, EngineException cause)
    : EngineException("MultiOperation could not be executed.")
{
    public int FailedIndex { get; } = failedIndex;

    public int OperationCount { get; } = operationCount;

    public EngineException Cause { get; } = cause;
}
