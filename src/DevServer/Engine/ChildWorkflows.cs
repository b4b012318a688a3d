using AgentOrchestrator.DevServer.Engine.Errors;
using AgentOrchestrator.DevServer.Engine.State;
using Temporalio.Api.Command.V1;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Sdk.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// Child workflows: starting them (after the parent's lock is released, like Temporal's transfer tasks), telling
/// the parent of the child's start and close, and the parent-close policy.
/// </summary>
internal sealed class ChildWorkflows(EngineContext context, ExecutionRegistry registry, WorkflowTaskDispatcher workflowTasks, RunLifecycle lifecycle)
    : IRunCloseObserver
{
    public void Initiate(WorkflowRun run, StartChildWorkflowExecutionCommandAttributes command, long completedEventId)
    {
        var ns = string.IsNullOrEmpty(command.Namespace) ? run.NamespaceName : command.Namespace;
        var initiated = context.NewEvent(EventType.StartChildWorkflowExecutionInitiated);
        var attributes = new StartChildWorkflowExecutionInitiatedEventAttributes
        {
            Namespace = ns,
            NamespaceId = registry.GetNamespace(ns).Id,
            WorkflowId = command.WorkflowId,
            WorkflowType = command.WorkflowType,
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue
            {
                Name = string.IsNullOrEmpty(command.TaskQueue?.Name) ? run.TaskQueue : command.TaskQueue.Name,
                Kind = TaskQueueKind.Normal,
            },
            Input = command.Input,
            WorkflowExecutionTimeout = command.WorkflowExecutionTimeout,
            WorkflowRunTimeout = command.WorkflowRunTimeout,
            WorkflowTaskTimeout = command.WorkflowTaskTimeout is { } t && t.ToTimeSpan() > TimeSpan.Zero ? t : run.StartAttributes.WorkflowTaskTimeout,
            ParentClosePolicy = command.ParentClosePolicy == ParentClosePolicy.Unspecified ? ParentClosePolicy.Terminate : command.ParentClosePolicy,
            Control = command.Control,
            WorkflowTaskCompletedEventId = completedEventId,
            WorkflowIdReusePolicy = command.WorkflowIdReusePolicy,
            RetryPolicy = command.RetryPolicy,
            CronSchedule = command.CronSchedule,
            Header = command.Header,
            Memo = command.Memo,
            SearchAttributes = command.SearchAttributes,
            Priority = Matching.DispatchKey.Merge(command.Priority, run.Priority),
        };
        initiated.StartChildWorkflowExecutionInitiatedEventAttributes = attributes;
        run.Append(initiated);
        run.Children[initiated.EventId] = new ChildState
        {
            InitiatedEventId = initiated.EventId,
            Namespace = ns,
            WorkflowId = command.WorkflowId,
            WorkflowType = command.WorkflowType.Name,
            ParentClosePolicy = attributes.ParentClosePolicy,
        };
        var initiatedEventId = initiated.EventId;
        // Deferred past the completion, by when the initiated event carries the command's user metadata.
        EngineContext.Defer(() => Start(run, attributes, initiatedEventId, initiated.UserMetadata));
    }

    private void Start(WorkflowRun parent, StartChildWorkflowExecutionInitiatedEventAttributes initiated, long initiatedEventId, UserMetadata? userMetadata)
    {
        RunLifecycle.StartOutcome? outcome = null;
        try
        {
            var spec = StartSpec.From(initiated.Namespace, initiated.WorkflowId, initiated.WorkflowType, initiated.TaskQueue, initiated.Input,
                initiated.WorkflowExecutionTimeout, initiated.WorkflowRunTimeout, initiated.WorkflowTaskTimeout, parent.StartAttributes.Identity,
                StartRequestId(parent, initiatedEventId), initiated.WorkflowIdReusePolicy, WorkflowIdConflictPolicy.Fail, initiated.RetryPolicy,
                initiated.CronSchedule, initiated.Memo, initiated.SearchAttributes, initiated.Header, startDelay: null, initiated.Priority);
            spec.Attributes.ParentWorkflowNamespace = parent.NamespaceName;
            spec.Attributes.ParentWorkflowNamespaceId = parent.Chain.Namespace.Id;
            spec.Attributes.ParentWorkflowExecution = new WorkflowExecution { WorkflowId = parent.WorkflowId, RunId = parent.RunId };
            spec.Attributes.ParentInitiatedEventId = initiatedEventId;
            spec.Attributes.RootWorkflowExecution = parent.StartAttributes.RootWorkflowExecution
                ?? new WorkflowExecution { WorkflowId = parent.WorkflowId, RunId = parent.RunId };
            outcome = lifecycle.Start(spec, beforeFirstTask: userMetadata is null ? null : child => RunLifecycle.SetUserMetadata(child, userMetadata));
        }
        catch (WorkflowAlreadyStartedException)
        {
            EngineLog.ChildAlreadyExists(context.Logger, initiated.WorkflowId, parent.WorkflowId);
        }

        registry.WithLockedRun(parent, parent =>
        {
            if (!parent.Children.TryGetValue(initiatedEventId, out var child))
            {
                return;
            }
            if (outcome is null)
            {
                parent.Children.Remove(initiatedEventId);
                var failed = context.NewEvent(EventType.StartChildWorkflowExecutionFailed);
                failed.StartChildWorkflowExecutionFailedEventAttributes = new StartChildWorkflowExecutionFailedEventAttributes
                {
                    Namespace = initiated.Namespace,
                    NamespaceId = initiated.NamespaceId,
                    WorkflowId = initiated.WorkflowId,
                    WorkflowType = initiated.WorkflowType,
                    Cause = StartChildWorkflowExecutionFailedCause.WorkflowAlreadyExists,
                    InitiatedEventId = initiatedEventId,
                    Control = initiated.Control,
                };
                if (parent.IsOpen)
                {
                    workflowTasks.AddExternalEvent(parent, failed);
                }
                return;
            }
            child.RunId = outcome.Value.Run.RunId;
            if (!parent.IsOpen)
            {
                // The parent closed while the child was starting: the parent-close policy still applies.
                ApplyParentClosePolicy(child);
                parent.Children.Remove(initiatedEventId);
                return;
            }
            var started = context.NewEvent(EventType.ChildWorkflowExecutionStarted);
            started.ChildWorkflowExecutionStartedEventAttributes = new ChildWorkflowExecutionStartedEventAttributes
            {
                Namespace = initiated.Namespace,
                NamespaceId = initiated.NamespaceId,
                InitiatedEventId = initiatedEventId,
                WorkflowExecution = new WorkflowExecution { WorkflowId = initiated.WorkflowId, RunId = child.RunId },
                WorkflowType = initiated.WorkflowType,
                Header = initiated.Header,
            };
            child.StartedEvent = started;
            workflowTasks.AddExternalEvent(parent, started);
            if (child.PendingClose is { } close)
            {
                parent.Children.Remove(initiatedEventId);
                SetChildStartedEventId(close, started);
                workflowTasks.AddExternalEvent(parent, close);
            }
        });
    }

    /// <summary>
    /// The child's start request id names the parent's command, so starting it again after a restart finds the child
    /// that was already created instead of failing on its own workflow id.
    /// </summary>
    private static string StartRequestId(WorkflowRun parent, long initiatedEventId) => $"{parent.RunId}/child/{initiatedEventId}";

    /// <summary>
    /// A run loaded from storage: children whose start was not yet recorded are started (again); a closed run's
    /// parent-close policy and its parent's notification are applied again (both do nothing the second time).
    /// </summary>
    public void Resume(WorkflowRun run)
    {
        if (run.IsOpen)
        {
            foreach (var child in run.Children.Values)
            {
                if (child.RunId is null && child.StartedEvent is null)
                {
                    var initiatedEvent = run.History[(int)child.InitiatedEventId - 1];
                    var initiatedEventId = child.InitiatedEventId;
                    EngineContext.Defer(() => Start(run, initiatedEvent.StartChildWorkflowExecutionInitiatedEventAttributes, initiatedEventId, initiatedEvent.UserMetadata));
                }
            }
            return;
        }
        if (run.CloseEvent is { } closeEvent && (run.Children.Count > 0 || run.StartAttributes.ParentWorkflowExecution is not null))
        {
            RunClosed(run, closeEvent, ContinuesChain(closeEvent));
        }
    }

    private static bool ContinuesChain(HistoryEvent closeEvent) => closeEvent.EventType == EventType.WorkflowExecutionContinuedAsNew ||
        closeEvent.EventType == EventType.WorkflowExecutionFailed && !string.IsNullOrEmpty(closeEvent.WorkflowExecutionFailedEventAttributes.NewExecutionRunId);

    public void RunClosed(WorkflowRun run, HistoryEvent closeEvent, bool chainContinues)
    {
        foreach (var child in run.Children.Values)
        {
            if (child.RunId is not null)
            {
                ApplyParentClosePolicy(child);
            }
        }
        if (!chainContinues)
        {
            NotifyParentOfClose(run, closeEvent);
        }
    }

    private void ApplyParentClosePolicy(ChildState child)
    {
        if (child.ParentClosePolicy == ParentClosePolicy.Abandon || child.RunId is null)
        {
            return;
        }
        EngineContext.Defer(() => registry.WithExternalTarget(child.Namespace, new WorkflowExecution { WorkflowId = child.WorkflowId }, current =>
        {
            if (!current.IsOpen || current.StartAttributes.FirstExecutionRunId != child.RunId)
            {
                return false;
            }
            if (child.ParentClosePolicy == ParentClosePolicy.Terminate)
            {
                lifecycle.TerminateLocked(current, "by parent close policy", null, "history-service");
            }
            else
            {
                lifecycle.RequestCancelLocked(current, "by parent close policy", "history-service", 0, null);
            }
            return true;
        }));
    }

    /// <summary>Tells the parent that its child's chain closed (retries and continue-as-new stay invisible).</summary>
    private void NotifyParentOfClose(WorkflowRun child, HistoryEvent closeEvent)
    {
        var attributes = child.StartAttributes;
        if (attributes.ParentWorkflowExecution is not { } parentExecution)
        {
            return;
        }
        var notification = ChildCloseEvent(child, closeEvent);
        if (notification is null)
        {
            return;
        }
        var parentNamespace = string.IsNullOrEmpty(attributes.ParentWorkflowNamespace) ? child.NamespaceName : attributes.ParentWorkflowNamespace;
        var initiatedEventId = attributes.ParentInitiatedEventId;
        EngineContext.Defer(() => registry.WithExternalTarget(parentNamespace, parentExecution, parent =>
        {
            if (!parent.IsOpen || !parent.Children.TryGetValue(initiatedEventId, out var state))
            {
                return false;
            }
            if (state.StartedEvent is null)
            {
                state.PendingClose = notification;
                return true;
            }
            parent.Children.Remove(initiatedEventId);
            SetChildStartedEventId(notification, state.StartedEvent);
            workflowTasks.AddExternalEvent(parent, notification);
            return true;
        }));
    }

    private HistoryEvent? ChildCloseEvent(WorkflowRun child, HistoryEvent closeEvent)
    {
        var ns = child.NamespaceName;
        var execution = new WorkflowExecution { WorkflowId = child.WorkflowId, RunId = child.RunId };
        var type = child.StartAttributes.WorkflowType;
        var initiatedEventId = child.StartAttributes.ParentInitiatedEventId;
        HistoryEvent notification;
        switch (closeEvent.EventType)
        {
            case EventType.WorkflowExecutionCompleted:
                notification = context.NewEvent(EventType.ChildWorkflowExecutionCompleted);
                notification.ChildWorkflowExecutionCompletedEventAttributes = new ChildWorkflowExecutionCompletedEventAttributes
                {
                    Result = closeEvent.WorkflowExecutionCompletedEventAttributes.Result,
                    Namespace = ns,
                    WorkflowExecution = execution,
                    WorkflowType = type,
                    InitiatedEventId = initiatedEventId,
                };
                break;
            case EventType.WorkflowExecutionFailed:
                notification = context.NewEvent(EventType.ChildWorkflowExecutionFailed);
                notification.ChildWorkflowExecutionFailedEventAttributes = new ChildWorkflowExecutionFailedEventAttributes
                {
                    Failure = closeEvent.WorkflowExecutionFailedEventAttributes.Failure,
                    RetryState = closeEvent.WorkflowExecutionFailedEventAttributes.RetryState,
                    Namespace = ns,
                    WorkflowExecution = execution,
                    WorkflowType = type,
                    InitiatedEventId = initiatedEventId,
                };
                break;
            case EventType.WorkflowExecutionCanceled:
                notification = context.NewEvent(EventType.ChildWorkflowExecutionCanceled);
                notification.ChildWorkflowExecutionCanceledEventAttributes = new ChildWorkflowExecutionCanceledEventAttributes
                {
                    Details = closeEvent.WorkflowExecutionCanceledEventAttributes.Details,
                    Namespace = ns,
                    WorkflowExecution = execution,
                    WorkflowType = type,
                    InitiatedEventId = initiatedEventId,
                };
                break;
            case EventType.WorkflowExecutionTimedOut:
                notification = context.NewEvent(EventType.ChildWorkflowExecutionTimedOut);
                notification.ChildWorkflowExecutionTimedOutEventAttributes = new ChildWorkflowExecutionTimedOutEventAttributes
                {
                    RetryState = closeEvent.WorkflowExecutionTimedOutEventAttributes.RetryState,
                    Namespace = ns,
                    WorkflowExecution = execution,
                    WorkflowType = type,
                    InitiatedEventId = initiatedEventId,
                };
                break;
            case EventType.WorkflowExecutionTerminated:
                notification = context.NewEvent(EventType.ChildWorkflowExecutionTerminated);
                notification.ChildWorkflowExecutionTerminatedEventAttributes = new ChildWorkflowExecutionTerminatedEventAttributes
                {
                    Namespace = ns,
                    WorkflowExecution = execution,
                    WorkflowType = type,
                    InitiatedEventId = initiatedEventId,
                };
                break;
            default:
                return null;
        }
        return notification;
    }

    /// <summary>The close event names the parent's Started event, whose id may only be assigned at flush.</summary>
    private static void SetChildStartedEventId(HistoryEvent close, HistoryEvent started)
    {
        // Informational for the SDK (it routes by initiated id): 0 while the Started event still waits in the buffer.
        var id = started.EventId;
        switch (close.EventType)
        {
            case EventType.ChildWorkflowExecutionCompleted: close.ChildWorkflowExecutionCompletedEventAttributes.StartedEventId = id; break;
            case EventType.ChildWorkflowExecutionFailed: close.ChildWorkflowExecutionFailedEventAttributes.StartedEventId = id; break;
            case EventType.ChildWorkflowExecutionCanceled: close.ChildWorkflowExecutionCanceledEventAttributes.StartedEventId = id; break;
            case EventType.ChildWorkflowExecutionTimedOut: close.ChildWorkflowExecutionTimedOutEventAttributes.StartedEventId = id; break;
            case EventType.ChildWorkflowExecutionTerminated: close.ChildWorkflowExecutionTerminatedEventAttributes.StartedEventId = id; break;
        }
    }
}
