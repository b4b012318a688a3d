using Microsoft.Extensions.Logging;
using Temporalio.Api.Enums.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>One Debug line per workflow state change, with workflow id and run id.</summary>
internal static partial class EngineLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded Temporal dev server listening on {Target}")]
    public static partial void Listening(ILogger logger, string target);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Workflow {WorkflowId} run {RunId} started ({WorkflowType} on {TaskQueue}, attempt {Attempt})")]
    public static partial void RunStarted(ILogger logger, string workflowId, string runId, string workflowType, string taskQueue, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Workflow {WorkflowId} run {RunId} closed as {Status}")]
    public static partial void RunClosed(ILogger logger, string workflowId, string runId, WorkflowExecutionStatus status);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Workflow {WorkflowId} run {RunId} workflow task {ScheduledEventId} started (attempt {Attempt})")]
    public static partial void WorkflowTaskStarted(ILogger logger, string workflowId, string runId, long scheduledEventId, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Workflow {WorkflowId} run {RunId} workflow task {ScheduledEventId} timed out")]
    public static partial void WorkflowTaskTimedOut(ILogger logger, string workflowId, string runId, long scheduledEventId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Workflow {WorkflowId} run {RunId} workflow task failed ({Cause})")]
    public static partial void WorkflowTaskFailed(ILogger logger, string workflowId, string runId, WorkflowTaskFailedCause cause);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Workflow {WorkflowId} run {RunId} admitted update {UpdateId}")]
    public static partial void UpdateAdmitted(ILogger logger, string workflowId, string runId, string updateId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Child {ChildWorkflowId} of workflow {WorkflowId} not started: the id is already running")]
    public static partial void ChildAlreadyExists(ILogger logger, string childWorkflowId, string workflowId);
}
