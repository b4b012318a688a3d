using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Gateway.Runs;

/// <summary>Log lines of run control (cancel, human input) and chat threads.</summary>
internal static partial class InteractionLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Cancel requested for run {RunId}")]
    public static partial void CancelRequested(ILogger logger, string runId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Input {RequestId} of run {RunId} accepted")]
    public static partial void InputAccepted(ILogger logger, string runId, string requestId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Input {RequestId} of run {RunId} rejected: {Reason}")]
    public static partial void InputRejected(ILogger logger, string runId, string requestId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Started thread {ThreadId}")]
    public static partial void ThreadStarted(ILogger logger, string threadId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Turn of thread {ThreadId} failed: {Reason}")]
    public static partial void TurnFailed(ILogger logger, string threadId, string reason);
}
