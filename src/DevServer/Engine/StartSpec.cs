using AgentOrchestrator.DevServer.Calendars;
using AgentOrchestrator.DevServer.Engine.Errors;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>What a start request asks for, whichever RPC it came from (start, signal-with-start, update-with-start, child).</summary>
internal sealed record StartSpec(
    string Namespace,
    WorkflowExecutionStartedEventAttributes Attributes,
    string RequestId,
    WorkflowIdReusePolicy ReusePolicy,
    WorkflowIdConflictPolicy ConflictPolicy,
    TimeSpan StartDelay)
{
    /// <summary>Validates a start request's fields and normalizes its id policies.</summary>
    public static StartSpec From(string ns, string workflowId, WorkflowType? type,
        Temporalio.Api.TaskQueue.V1.TaskQueue? taskQueue, Payloads? input, Duration? executionTimeout, Duration? runTimeout,
        Duration? taskTimeout, string identity, string requestId, WorkflowIdReusePolicy reuse, WorkflowIdConflictPolicy conflict,
        RetryPolicy? retryPolicy, string cronSchedule, Memo? memo, SearchAttributes? searchAttributes, Header? header,
        Duration? startDelay, Priority? priority)
    {
        if (string.IsNullOrEmpty(workflowId))
        {
            throw new InvalidRequestException("WorkflowId is not set on request.");
        }
        if (string.IsNullOrEmpty(type?.Name))
        {
            throw new InvalidRequestException("WorkflowType is not set on request.");
        }
        if (string.IsNullOrEmpty(taskQueue?.Name))
        {
            throw new InvalidRequestException("TaskQueue is not set on request.");
        }
        if (!string.IsNullOrEmpty(cronSchedule) && startDelay is not null && startDelay.ToTimeSpan() > TimeSpan.Zero)
        {
            throw new InvalidRequestException("CronSchedule and WorkflowStartDelay may not be used together.");
        }
        if (!string.IsNullOrEmpty(cronSchedule))
        {
            try
            {
                CronParser.Parse(cronSchedule);
            }
            catch (FormatException error)
            {
                throw new InvalidRequestException($"Invalid CronSchedule: {error.Message}");
            }
        }
        (reuse, conflict) = NormalizeIdPolicies(reuse, conflict);
        var attributes = new WorkflowExecutionStartedEventAttributes
        {
            WorkflowType = type.Clone(),
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = taskQueue.Name, Kind = TaskQueueKind.Normal },
            Input = input,
            WorkflowExecutionTimeout = executionTimeout,
            WorkflowRunTimeout = runTimeout,
            WorkflowTaskTimeout = taskTimeout,
            Identity = identity ?? string.Empty,
            RetryPolicy = retryPolicy,
            CronSchedule = cronSchedule ?? string.Empty,
            Memo = memo,
            SearchAttributes = searchAttributes,
            Header = header,
            Priority = priority,
            Attempt = 1,
            WorkflowId = workflowId,
        };
        return new StartSpec(ns, attributes, string.IsNullOrEmpty(requestId) ? Guid.NewGuid().ToString() : requestId,
            reuse, conflict, startDelay?.ToTimeSpan() ?? TimeSpan.Zero);
    }

    private static (WorkflowIdReusePolicy, WorkflowIdConflictPolicy) NormalizeIdPolicies(WorkflowIdReusePolicy reuse, WorkflowIdConflictPolicy conflict)
    {
        if (reuse == WorkflowIdReusePolicy.TerminateIfRunning)
        {
            if (conflict != WorkflowIdConflictPolicy.Unspecified)
            {
                throw new InvalidRequestException("Invalid WorkflowIDReusePolicy: WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING cannot be used together with a WorkflowIDConflictPolicy.");
            }
            return (WorkflowIdReusePolicy.AllowDuplicate, WorkflowIdConflictPolicy.TerminateExisting);
        }
        if (conflict == WorkflowIdConflictPolicy.TerminateExisting && reuse == WorkflowIdReusePolicy.RejectDuplicate)
        {
            throw new InvalidRequestException("Invalid WorkflowIDReusePolicy: WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE cannot be used together with WorkflowIdConflictPolicy WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING.");
        }
        return (reuse == WorkflowIdReusePolicy.Unspecified ? WorkflowIdReusePolicy.AllowDuplicate : reuse,
            conflict == WorkflowIdConflictPolicy.Unspecified ? WorkflowIdConflictPolicy.Fail : conflict);
    }
}
