using Grpc.Core;
using Microsoft.Extensions.Logging;
using Temporalio.Api.Command.V1;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine;

internal sealed partial class WorkflowEngine
{
    // ---- Closing commands that start another run in the same chain ----

    private void FailWorkflow(WorkflowRun run, Failure failure, long completedEventId)
    {
        var failed = NewEvent(EventType.WorkflowExecutionFailed);
        var attributes = new WorkflowExecutionFailedEventAttributes { Failure = failure, WorkflowTaskCompletedEventId = completedEventId };
        failed.WorkflowExecutionFailedEventAttributes = attributes;
        var policy = run.StartAttributes.RetryPolicy;
        if (policy is null)
        {
            attributes.RetryState = RetryState.RetryPolicyNotSet;
            CloseRun(run, WorkflowExecutionStatus.Failed, failed, chainContinues: false);
            return;
        }
        var filled = WithRetryDefaults(policy);
        var attempt = run.StartAttributes.Attempt;
        var delay = BackoffFor(filled, attempt);
        var expiration = run.StartAttributes.WorkflowExecutionExpirationTime?.ToDateTimeOffset();
        attributes.RetryState = !IsRetryable(failure, filled) ? RetryState.NonRetryableFailure
            : filled.MaximumAttempts > 0 && attempt >= filled.MaximumAttempts ? RetryState.MaximumAttemptsReached
            : expiration is { } expires && Now + delay >= expires ? RetryState.Timeout
            : RetryState.InProgress;
        if (attributes.RetryState != RetryState.InProgress)
        {
            CloseRun(run, WorkflowExecutionStatus.Failed, failed, chainContinues: false);
            return;
        }
        var newRunId = Guid.NewGuid().ToString();
        attributes.NewExecutionRunId = newRunId;
        CloseRun(run, WorkflowExecutionStatus.Failed, failed, chainContinues: true);
        var next = run.StartAttributes.Clone();
        next.Attempt = attempt + 1;
        next.ContinuedFailure = failure;
        next.ContinuedExecutionRunId = run.RunId;
        next.Initiator = ContinueAsNewInitiator.Retry;
        next.FirstWorkflowTaskBackoff = null;
        next.SearchAttributes = CurrentSearchAttributes(run);
        CreateRun(run.Chain, next, Guid.NewGuid().ToString(), delay, beforeFirstTask: null, newRunId);
    }

    private static SearchAttributes CurrentSearchAttributes(WorkflowRun run)
    {
        var searchAttributes = new SearchAttributes();
        foreach (var (key, value) in run.SearchAttributeValues)
        {
            searchAttributes.IndexedFields[key] = value;
        }
        return searchAttributes;
    }

    private void ContinueAsNew(WorkflowRun run, ContinueAsNewWorkflowExecutionCommandAttributes command, long completedEventId)
    {
        var previous = run.StartAttributes;
        var newRunId = Guid.NewGuid().ToString();
        var workflowType = string.IsNullOrEmpty(command.WorkflowType?.Name) ? previous.WorkflowType : command.WorkflowType;
        var taskQueue = string.IsNullOrEmpty(command.TaskQueue?.Name) ? previous.TaskQueue.Name : command.TaskQueue.Name;
        var runTimeout = command.WorkflowRunTimeout ?? previous.WorkflowRunTimeout;
        var taskTimeout = command.WorkflowTaskTimeout is { } t && t.ToTimeSpan() > TimeSpan.Zero ? t : previous.WorkflowTaskTimeout;
        var memo = command.Memo ?? previous.Memo;
        var searchAttributes = command.SearchAttributes ?? CurrentSearchAttributes(run);
        var header = command.Header ?? previous.Header;
        var continued = NewEvent(EventType.WorkflowExecutionContinuedAsNew);
        continued.WorkflowExecutionContinuedAsNewEventAttributes = new WorkflowExecutionContinuedAsNewEventAttributes
        {
            NewExecutionRunId = newRunId,
            WorkflowType = workflowType,
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = taskQueue, Kind = TaskQueueKind.Normal },
            Input = command.Input,
            WorkflowRunTimeout = runTimeout,
            WorkflowTaskTimeout = taskTimeout,
            WorkflowTaskCompletedEventId = completedEventId,
            BackoffStartInterval = command.BackoffStartInterval,
            Initiator = command.Initiator == ContinueAsNewInitiator.Unspecified ? ContinueAsNewInitiator.Workflow : command.Initiator,
            Failure = command.Failure,
            LastCompletionResult = command.LastCompletionResult,
            Header = header,
            Memo = memo,
            SearchAttributes = searchAttributes,
        };
        CloseRun(run, WorkflowExecutionStatus.ContinuedAsNew, continued, chainContinues: true);
        var next = new WorkflowExecutionStartedEventAttributes
        {
            WorkflowType = workflowType,
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = taskQueue, Kind = TaskQueueKind.Normal },
            Input = command.Input,
            WorkflowRunTimeout = runTimeout,
            WorkflowTaskTimeout = taskTimeout,
            WorkflowExecutionTimeout = previous.WorkflowExecutionTimeout,
            WorkflowExecutionExpirationTime = previous.WorkflowExecutionExpirationTime,
            ContinuedExecutionRunId = run.RunId,
            FirstExecutionRunId = previous.FirstExecutionRunId,
            Initiator = continued.WorkflowExecutionContinuedAsNewEventAttributes.Initiator,
            ContinuedFailure = command.Failure,
            LastCompletionResult = command.LastCompletionResult,
            Identity = previous.Identity,
            RetryPolicy = command.RetryPolicy ?? previous.RetryPolicy,
            Attempt = 1,
            Header = header,
            Memo = memo,
            SearchAttributes = searchAttributes,
            ParentWorkflowNamespace = previous.ParentWorkflowNamespace,
            ParentWorkflowNamespaceId = previous.ParentWorkflowNamespaceId,
            ParentWorkflowExecution = previous.ParentWorkflowExecution,
            ParentInitiatedEventId = previous.ParentInitiatedEventId,
            RootWorkflowExecution = previous.RootWorkflowExecution,
            Priority = previous.Priority,
        };
        CreateRun(run.Chain, next, Guid.NewGuid().ToString(), command.BackoffStartInterval?.ToTimeSpan() ?? TimeSpan.Zero, beforeFirstTask: null, newRunId);
    }

    // ---- Child workflows ----

    private void InitiateChild(WorkflowRun run, StartChildWorkflowExecutionCommandAttributes command, long completedEventId)
    {
        var ns = string.IsNullOrEmpty(command.Namespace) ? run.NamespaceName : command.Namespace;
        var initiated = NewEvent(EventType.StartChildWorkflowExecutionInitiated);
        var attributes = new StartChildWorkflowExecutionInitiatedEventAttributes
        {
            Namespace = ns,
            NamespaceId = GetNamespace(ns).Id,
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
        Defer(() => StartChild(run, attributes, initiatedEventId));
    }

    private void StartChild(WorkflowRun parent, StartChildWorkflowExecutionInitiatedEventAttributes initiated, long initiatedEventId)
    {
        StartOutcome? outcome = null;
        try
        {
            var spec = ToStartSpec(initiated.Namespace, initiated.WorkflowId, initiated.WorkflowType, initiated.TaskQueue, initiated.Input,
                initiated.WorkflowExecutionTimeout, initiated.WorkflowRunTimeout, initiated.WorkflowTaskTimeout, parent.StartAttributes.Identity,
                Guid.NewGuid().ToString(), initiated.WorkflowIdReusePolicy, WorkflowIdConflictPolicy.Fail, initiated.RetryPolicy,
                initiated.CronSchedule, initiated.Memo, initiated.SearchAttributes, initiated.Header, startDelay: null, initiated.Priority);
            spec.Attributes.ParentWorkflowNamespace = parent.NamespaceName;
            spec.Attributes.ParentWorkflowNamespaceId = parent.Chain.Namespace.Id;
            spec.Attributes.ParentWorkflowExecution = new WorkflowExecution { WorkflowId = parent.WorkflowId, RunId = parent.RunId };
            spec.Attributes.ParentInitiatedEventId = initiatedEventId;
            spec.Attributes.RootWorkflowExecution = parent.StartAttributes.RootWorkflowExecution
                ?? new WorkflowExecution { WorkflowId = parent.WorkflowId, RunId = parent.RunId };
            outcome = Start(spec, beforeFirstTask: null);
        }
        catch (RpcException error) when (error.StatusCode == StatusCode.AlreadyExists)
        {
            EngineLog.ChildAlreadyExists(_logger, initiated.WorkflowId, parent.WorkflowId);
        }

        lock (parent.Chain)
        {
            if (!parent.Children.TryGetValue(initiatedEventId, out var child))
            {
                return;
            }
            if (outcome is null)
            {
                parent.Children.Remove(initiatedEventId);
                var failed = NewEvent(EventType.StartChildWorkflowExecutionFailed);
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
                    AddExternalEvent(parent, failed);
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
            var started = NewEvent(EventType.ChildWorkflowExecutionStarted);
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
            AddExternalEvent(parent, started);
            if (child.PendingClose is { } close)
            {
                parent.Children.Remove(initiatedEventId);
                SetChildStartedEventId(close, started);
                AddExternalEvent(parent, close);
            }
        }
    }

    private void ApplyParentClosePolicy(WorkflowRun parent)
    {
        foreach (var child in parent.Children.Values)
        {
            if (child.RunId is not null)
            {
                ApplyParentClosePolicy(child);
            }
        }
    }

    private void ApplyParentClosePolicy(ChildState child)
    {
        if (child.ParentClosePolicy == ParentClosePolicy.Abandon || child.RunId is null)
        {
            return;
        }
        Defer(() =>
        {
            var chain = FindChain(child.Namespace, child.WorkflowId);
            if (chain is null)
            {
                return;
            }
            lock (chain)
            {
                var current = chain.Current;
                if (current is null || !current.IsOpen || current.StartAttributes.FirstExecutionRunId != child.RunId)
                {
                    return;
                }
                if (child.ParentClosePolicy == ParentClosePolicy.Terminate)
                {
                    TerminateLocked(current, "by parent close policy", null, "history-service");
                }
                else
                {
                    RequestCancelLocked(current, "by parent close policy", "history-service", 0, null);
                }
            }
        });
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
        Defer(() =>
        {
            var chain = FindChain(parentNamespace, parentExecution.WorkflowId);
            if (chain is null)
            {
                return;
            }
            lock (chain)
            {
                var parent = chain.Find(parentExecution.RunId);
                if (parent is null || !parent.IsOpen || !parent.Children.TryGetValue(initiatedEventId, out var state))
                {
                    return;
                }
                if (state.StartedEvent is null)
                {
                    state.PendingClose = notification;
                    return;
                }
                parent.Children.Remove(initiatedEventId);
                SetChildStartedEventId(notification, state.StartedEvent);
                AddExternalEvent(parent, notification);
            }
        });
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
                notification = NewEvent(EventType.ChildWorkflowExecutionCompleted);
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
                notification = NewEvent(EventType.ChildWorkflowExecutionFailed);
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
                notification = NewEvent(EventType.ChildWorkflowExecutionCanceled);
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
                notification = NewEvent(EventType.ChildWorkflowExecutionTimedOut);
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
                notification = NewEvent(EventType.ChildWorkflowExecutionTerminated);
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

    // ---- External signal and cancel ----

    private void InitiateExternalSignal(WorkflowRun run, SignalExternalWorkflowExecutionCommandAttributes command, long completedEventId)
    {
        var ns = string.IsNullOrEmpty(command.Namespace) ? run.NamespaceName : command.Namespace;
        var initiated = NewEvent(EventType.SignalExternalWorkflowExecutionInitiated);
        initiated.SignalExternalWorkflowExecutionInitiatedEventAttributes = new SignalExternalWorkflowExecutionInitiatedEventAttributes
        {
            WorkflowTaskCompletedEventId = completedEventId,
            Namespace = ns,
            NamespaceId = GetNamespace(ns).Id,
            WorkflowExecution = command.Execution,
            SignalName = command.SignalName,
            Input = command.Input,
            Control = command.Control,
            ChildWorkflowOnly = command.ChildWorkflowOnly,
            Header = command.Header,
        };
        run.Append(initiated);
        var initiatedEventId = initiated.EventId;
        var source = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId };
        Defer(() =>
        {
            var delivered = WithExternalTarget(ns, command.Execution, target =>
            {
                if (!target.IsOpen)
                {
                    return false;
                }
                var signaled = NewEvent(EventType.WorkflowExecutionSignaled);
                signaled.WorkflowExecutionSignaledEventAttributes = new WorkflowExecutionSignaledEventAttributes
                {
                    SignalName = command.SignalName,
                    Input = command.Input,
                    Header = command.Header,
                    ExternalWorkflowExecution = source,
                };
                AddExternalEvent(target, signaled);
                return true;
            });
            WithLockedRun(run, r =>
            {
                if (!r.IsOpen)
                {
                    return;
                }
                HistoryEvent result;
                if (delivered)
                {
                    result = NewEvent(EventType.ExternalWorkflowExecutionSignaled);
                    result.ExternalWorkflowExecutionSignaledEventAttributes = new ExternalWorkflowExecutionSignaledEventAttributes
                    {
                        InitiatedEventId = initiatedEventId,
                        Namespace = ns,
                        WorkflowExecution = command.Execution,
                        Control = command.Control,
                    };
                }
                else
                {
                    result = NewEvent(EventType.SignalExternalWorkflowExecutionFailed);
                    result.SignalExternalWorkflowExecutionFailedEventAttributes = new SignalExternalWorkflowExecutionFailedEventAttributes
                    {
                        Cause = SignalExternalWorkflowExecutionFailedCause.ExternalWorkflowExecutionNotFound,
                        InitiatedEventId = initiatedEventId,
                        Namespace = ns,
                        WorkflowExecution = command.Execution,
                        Control = command.Control,
                    };
                }
                AddExternalEvent(r, result);
            });
        });
    }

    private void InitiateExternalCancel(WorkflowRun run, RequestCancelExternalWorkflowExecutionCommandAttributes command, long completedEventId)
    {
        var ns = string.IsNullOrEmpty(command.Namespace) ? run.NamespaceName : command.Namespace;
        var execution = new WorkflowExecution { WorkflowId = command.WorkflowId, RunId = command.RunId ?? string.Empty };
        var initiated = NewEvent(EventType.RequestCancelExternalWorkflowExecutionInitiated);
        initiated.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes = new RequestCancelExternalWorkflowExecutionInitiatedEventAttributes
        {
            WorkflowTaskCompletedEventId = completedEventId,
            Namespace = ns,
            NamespaceId = GetNamespace(ns).Id,
            WorkflowExecution = execution,
            Control = command.Control,
            ChildWorkflowOnly = command.ChildWorkflowOnly,
            Reason = command.Reason,
        };
        run.Append(initiated);
        var initiatedEventId = initiated.EventId;
        var source = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId };
        Defer(() =>
        {
            // Cancelling a closed or already cancel-requested run still counts as delivered.
            var found = WithExternalTarget(ns, execution, target =>
            {
                RequestCancelLocked(target, command.Reason, "history-service", initiatedEventId, source);
                return true;
            });
            WithLockedRun(run, r =>
            {
                if (!r.IsOpen)
                {
                    return;
                }
                HistoryEvent result;
                if (found)
                {
                    result = NewEvent(EventType.ExternalWorkflowExecutionCancelRequested);
                    result.ExternalWorkflowExecutionCancelRequestedEventAttributes = new ExternalWorkflowExecutionCancelRequestedEventAttributes
                    {
                        InitiatedEventId = initiatedEventId,
                        Namespace = ns,
                        WorkflowExecution = execution,
                    };
                }
                else
                {
                    result = NewEvent(EventType.RequestCancelExternalWorkflowExecutionFailed);
                    result.RequestCancelExternalWorkflowExecutionFailedEventAttributes = new RequestCancelExternalWorkflowExecutionFailedEventAttributes
                    {
                        Cause = CancelExternalWorkflowExecutionFailedCause.ExternalWorkflowExecutionNotFound,
                        InitiatedEventId = initiatedEventId,
                        Namespace = ns,
                        WorkflowExecution = execution,
                        Control = command.Control,
                    };
                }
                AddExternalEvent(r, result);
            });
        });
    }

    /// <summary>Runs <paramref name="action"/> on the target run under its lock; false when there is no such run.</summary>
    private bool WithExternalTarget(string ns, WorkflowExecution execution, Func<WorkflowRun, bool> action)
    {
        var chain = FindChain(ns, execution.WorkflowId);
        if (chain is null)
        {
            return false;
        }
        lock (chain)
        {
            var target = chain.Find(execution.RunId);
            return target is not null && action(target);
        }
    }
}
