using AgentOrchestrator.DevServer.Engine.Errors;
using AgentOrchestrator.DevServer.Engine.State;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>ResetWorkflowExecution: a new run of a chain forked from an earlier workflow task of one of its runs.</summary>
internal sealed class WorkflowResets(EngineContext context, ExecutionRegistry registry, WorkflowTaskDispatcher workflowTasks, RunLifecycle lifecycle)
{
    /// <summary>
    /// ResetWorkflowExecution to a workflow task: a new run in the chain with the base run's history up to that task's
    /// WorkflowTaskStarted, a WorkflowTaskFailed (RESET_WORKFLOW), the base run's later signals reapplied (unless
    /// excluded) and a new workflow task; an open base run is terminated. The new run's state is rebuilt from history
    /// for quiet points only: a reset point with pending activities, timers, children or external requests is refused.
    /// </summary>
    public ResetWorkflowExecutionResponse Reset(ResetWorkflowExecutionRequest request)
    {
        var execution = request.WorkflowExecution;
        if (execution is null || string.IsNullOrEmpty(execution.WorkflowId))
        {
            throw new InvalidRequestException("WorkflowExecution is not set on request.");
        }
        return registry.WithChain(request.Namespace, execution.WorkflowId, chain =>
        {
            var baseRun = chain.Find(execution.RunId) ?? throw NotFoundException.Workflow(execution.WorkflowId, execution.RunId);
            var finishId = request.WorkflowTaskFinishEventId;
            if (finishId < 1 || finishId > baseRun.History.Count)
            {
                throw new InvalidRequestException($"WorkflowTaskFinishEventId {finishId} is not an event of the run.");
            }
            var finish = baseRun.History[(int)finishId - 1];
            var startedId = finish.EventType switch
            {
                EventType.WorkflowTaskCompleted => finish.WorkflowTaskCompletedEventAttributes.StartedEventId,
                EventType.WorkflowTaskFailed => finish.WorkflowTaskFailedEventAttributes.StartedEventId,
                EventType.WorkflowTaskTimedOut => finish.WorkflowTaskTimedOutEventAttributes.StartedEventId,
                EventType.WorkflowTaskStarted => finish.EventId,
                _ => throw new InvalidRequestException($"event {finishId} is a {finish.EventType}, not the end of a workflow task."),
            };
            var prefix = baseRun.History.Take((int)startedId).Select(e => e.Clone()).ToList();
            if (PendingAt(prefix) is { } pending)
            {
                throw new InvalidRequestException($"Reset to event {finishId} is not supported by this server: the run has {pending} pending there.");
            }
            var newRunId = Guid.NewGuid().ToString();
            var run = new WorkflowRun(chain, newRunId)
            {
                StartAttributes = prefix[0].WorkflowExecutionStartedEventAttributes,
                StartRequestId = string.IsNullOrEmpty(request.RequestId) ? Guid.NewGuid().ToString() : request.RequestId,
                StartTime = baseRun.StartTime,
                ExecutionTime = baseRun.ExecutionTime,
            };
            foreach (var historyEvent in prefix)
            {
                run.History.Add(historyEvent);
                if (historyEvent.UpsertWorkflowSearchAttributesEventAttributes?.SearchAttributes is { } upserted)
                {
                    run.MergeSearchAttributes(upserted);
                }
                if (historyEvent.WorkflowPropertiesModifiedEventAttributes?.UpsertedMemo is { } memo)
                {
                    run.MergeMemo(memo);
                }
                if (historyEvent.EventType == EventType.WorkflowTaskCompleted)
                {
                    run.PreviousStartedEventId = historyEvent.WorkflowTaskCompletedEventAttributes.StartedEventId;
                }
            }
            if (run.StartAttributes.SearchAttributes is { } startAttributes)
            {
                run.MergeSearchAttributes(startAttributes);
            }
            if (run.StartAttributes.Memo is { } startMemo)
            {
                run.MergeMemo(startMemo);
            }
            var failed = context.NewEvent(EventType.WorkflowTaskFailed);
            failed.WorkflowTaskFailedEventAttributes = new WorkflowTaskFailedEventAttributes
            {
                ScheduledEventId = prefix[^1].WorkflowTaskStartedEventAttributes.ScheduledEventId,
                StartedEventId = startedId,
                Cause = WorkflowTaskFailedCause.ResetWorkflow,
                Failure = new Failure { Message = string.IsNullOrEmpty(request.Reason) ? "reset" : request.Reason },
                Identity = request.Identity ?? string.Empty,
                BaseRunId = baseRun.RunId,
                NewRunId = newRunId,
            };
            run.Append(failed);
            if (request.ResetReapplyType != ResetReapplyType.None && !request.ResetReapplyExcludeTypes.Contains(ResetReapplyExcludeType.Signal))
            {
                foreach (var later in baseRun.History.Skip((int)startedId).Concat(baseRun.Buffer))
                {
                    if (later.EventType == EventType.WorkflowExecutionSignaled)
                    {
                        var signal = later.Clone();
                        signal.EventTime = Timestamp.FromDateTimeOffset(context.Now);
                        run.Append(signal);
                    }
                }
            }
            if (baseRun.IsOpen)
            {
                lifecycle.TerminateLocked(baseRun, string.IsNullOrEmpty(request.Reason) ? "reset" : request.Reason, null, request.Identity);
            }
            chain.Runs.Add(run);
            workflowTasks.Schedule(run);
            lifecycle.ArmRunTimeout(run);
            context.Metrics.WorkflowStarted();
            EngineLog.RunStarted(context.Logger, chain.WorkflowId, newRunId, run.StartAttributes.WorkflowType.Name, run.StartAttributes.TaskQueue.Name, run.StartAttributes.Attempt);
            return new ResetWorkflowExecutionResponse { RunId = newRunId };
        });
    }

    /// <summary>What a history prefix leaves pending (activities, timers, children, external requests), or null.</summary>
    private static string? PendingAt(List<HistoryEvent> prefix)
    {
        var activities = new HashSet<long>();
        var timers = new HashSet<long>();
        var others = new HashSet<long>();
        foreach (var e in prefix)
        {
            switch (e.EventType)
            {
                case EventType.ActivityTaskScheduled: activities.Add(e.EventId); break;
                case EventType.ActivityTaskCompleted: activities.Remove(e.ActivityTaskCompletedEventAttributes.ScheduledEventId); break;
                case EventType.ActivityTaskFailed: activities.Remove(e.ActivityTaskFailedEventAttributes.ScheduledEventId); break;
                case EventType.ActivityTaskTimedOut: activities.Remove(e.ActivityTaskTimedOutEventAttributes.ScheduledEventId); break;
                case EventType.ActivityTaskCanceled: activities.Remove(e.ActivityTaskCanceledEventAttributes.ScheduledEventId); break;
                case EventType.TimerStarted: timers.Add(e.EventId); break;
                case EventType.TimerFired: timers.Remove(e.TimerFiredEventAttributes.StartedEventId); break;
                case EventType.TimerCanceled: timers.Remove(e.TimerCanceledEventAttributes.StartedEventId); break;
                case EventType.StartChildWorkflowExecutionInitiated:
                case EventType.SignalExternalWorkflowExecutionInitiated:
                case EventType.RequestCancelExternalWorkflowExecutionInitiated:
                    others.Add(e.EventId);
                    break;
                case EventType.StartChildWorkflowExecutionFailed: others.Remove(e.StartChildWorkflowExecutionFailedEventAttributes.InitiatedEventId); break;
                case EventType.ChildWorkflowExecutionCompleted: others.Remove(e.ChildWorkflowExecutionCompletedEventAttributes.InitiatedEventId); break;
                case EventType.ChildWorkflowExecutionFailed: others.Remove(e.ChildWorkflowExecutionFailedEventAttributes.InitiatedEventId); break;
                case EventType.ChildWorkflowExecutionCanceled: others.Remove(e.ChildWorkflowExecutionCanceledEventAttributes.InitiatedEventId); break;
                case EventType.ChildWorkflowExecutionTimedOut: others.Remove(e.ChildWorkflowExecutionTimedOutEventAttributes.InitiatedEventId); break;
                case EventType.ChildWorkflowExecutionTerminated: others.Remove(e.ChildWorkflowExecutionTerminatedEventAttributes.InitiatedEventId); break;
                case EventType.ExternalWorkflowExecutionSignaled: others.Remove(e.ExternalWorkflowExecutionSignaledEventAttributes.InitiatedEventId); break;
                case EventType.SignalExternalWorkflowExecutionFailed: others.Remove(e.SignalExternalWorkflowExecutionFailedEventAttributes.InitiatedEventId); break;
                case EventType.ExternalWorkflowExecutionCancelRequested: others.Remove(e.ExternalWorkflowExecutionCancelRequestedEventAttributes.InitiatedEventId); break;
                case EventType.RequestCancelExternalWorkflowExecutionFailed: others.Remove(e.RequestCancelExternalWorkflowExecutionFailedEventAttributes.InitiatedEventId); break;
            }
        }
        return activities.Count > 0 ? "activities" : timers.Count > 0 ? "timers" : others.Count > 0 ? "children or external requests" : null;
    }
}
