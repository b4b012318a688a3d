namespace AgentOrchestrator.Workers;

internal static partial class WorkerLog
{
    // Per call: Debug, like the model steps' lines (WorkerLog).
    [LoggerMessage(Level = LogLevel.Debug, Message = "Tool {Tool} attempt {Attempt} completed: {Chars} chars")]
    public static partial void ToolCallCompleted(ILogger logger, string tool, int attempt, int chars);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tool {Tool} attempt {Attempt} failed")]
    public static partial void ToolCallFailed(ILogger logger, Exception exception, string tool, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool {Tool} attempt {Attempt} canceled with its run")]
    public static partial void ToolCallCanceled(ILogger logger, string tool, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Model turn {Agent} attempt {Attempt} asked for {ToolCalls} tool calls")]
    public static partial void ModelTurnToolCalls(ILogger logger, string agent, int attempt, int toolCalls);
}
