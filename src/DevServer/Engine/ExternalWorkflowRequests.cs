using AgentOrchestrator.DevServer.Engine.State;
using Temporalio.Api.Command.V1;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// A workflow signalling or cancelling another one: the target is reached after the sender's lock is released,
/// then the sender learns whether it was found. A request whose outcome is not yet in the sender's history is
/// delivered again after a restart; the target takes a signal once (its request id names the sender's command).
/// </summary>
internal sealed class ExternalWorkflowRequests(EngineContext context, ExecutionRegistry registry, WorkflowTaskDispatcher workflowTasks, RunLifecycle lifecycle)
{
    public void Signal(WorkflowRun run, SignalExternalWorkflowExecutionCommandAttributes command, long completedEventId)
    {
        var ns = string.IsNullOrEmpty(command.Namespace) ? run.NamespaceName : command.Namespace;
        var initiated = context.NewEvent(EventType.SignalExternalWorkflowExecutionInitiated);
        initiated.SignalExternalWorkflowExecutionInitiatedEventAttributes = new SignalExternalWorkflowExecutionInitiatedEventAttributes
        {
            WorkflowTaskCompletedEventId = completedEventId,
            Namespace = ns,
            NamespaceId = registry.GetNamespace(ns).Id,
            WorkflowExecution = command.Execution,
            SignalName = command.SignalName,
            Input = command.Input,
            Control = command.Control,
            ChildWorkflowOnly = command.ChildWorkflowOnly,
            Header = command.Header,
        };
        run.Append(initiated);
        DeliverSignal(run, initiated);
    }

    private void DeliverSignal(WorkflowRun run, HistoryEvent initiated)
    {
        var attributes = initiated.SignalExternalWorkflowExecutionInitiatedEventAttributes;
        var initiatedEventId = initiated.EventId;
        var ns = attributes.Namespace;
        var source = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId };
        var requestId = $"{run.RunId}/signal/{initiatedEventId}";
        EngineContext.Defer(() =>
        {
            var delivered = registry.WithExternalTarget(ns, attributes.WorkflowExecution, target =>
            {
                if (!target.IsOpen)
                {
                    return false;
                }
                if (!target.SignalRequestIds.Add(requestId))
                {
                    return true;
                }
                var signaled = context.NewEvent(EventType.WorkflowExecutionSignaled);
                signaled.WorkflowExecutionSignaledEventAttributes = new WorkflowExecutionSignaledEventAttributes
                {
                    SignalName = attributes.SignalName,
                    Input = attributes.Input,
                    Header = attributes.Header,
                    ExternalWorkflowExecution = source,
                    RequestId = requestId,
                };
                workflowTasks.AddExternalEvent(target, signaled);
                return true;
            });
            registry.WithLockedRun(run, r =>
            {
                if (!r.IsOpen)
                {
                    return;
                }
                HistoryEvent result;
                if (delivered)
                {
                    result = context.NewEvent(EventType.ExternalWorkflowExecutionSignaled);
                    result.ExternalWorkflowExecutionSignaledEventAttributes = new ExternalWorkflowExecutionSignaledEventAttributes
                    {
                        InitiatedEventId = initiatedEventId,
                        Namespace = ns,
                        WorkflowExecution = attributes.WorkflowExecution,
                        Control = attributes.Control,
                    };
                }
                else
                {
                    result = context.NewEvent(EventType.SignalExternalWorkflowExecutionFailed);
                    result.SignalExternalWorkflowExecutionFailedEventAttributes = new SignalExternalWorkflowExecutionFailedEventAttributes
                    {
                        Cause = SignalExternalWorkflowExecutionFailedCause.ExternalWorkflowExecutionNotFound,
                        InitiatedEventId = initiatedEventId,
                        Namespace = ns,
                        WorkflowExecution = attributes.WorkflowExecution,
                        Control = attributes.Control,
                    };
                }
                workflowTasks.AddExternalEvent(r, result);
            });
        });
    }

    public void Cancel(WorkflowRun run, RequestCancelExternalWorkflowExecutionCommandAttributes command, long completedEventId)
    {
        var ns = string.IsNullOrEmpty(command.Namespace) ? run.NamespaceName : command.Namespace;
        var initiated = context.NewEvent(EventType.RequestCancelExternalWorkflowExecutionInitiated);
        initiated.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes = new RequestCancelExternalWorkflowExecutionInitiatedEventAttributes
        {
            WorkflowTaskCompletedEventId = completedEventId,
            Namespace = ns,
            NamespaceId = registry.GetNamespace(ns).Id,
            WorkflowExecution = new WorkflowExecution { WorkflowId = command.WorkflowId, RunId = command.RunId ?? string.Empty },
            Control = command.Control,
            ChildWorkflowOnly = command.ChildWorkflowOnly,
            Reason = command.Reason,
        };
        run.Append(initiated);
        DeliverCancel(run, initiated);
    }

    private void DeliverCancel(WorkflowRun run, HistoryEvent initiated)
    {
        var attributes = initiated.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes;
        var initiatedEventId = initiated.EventId;
        var ns = attributes.Namespace;
        var execution = attributes.WorkflowExecution;
        var source = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId };
        EngineContext.Defer(() =>
        {
            // Cancelling a closed or already cancel-requested run still counts as delivered.
            var found = registry.WithExternalTarget(ns, execution, target =>
            {
                lifecycle.RequestCancelLocked(target, attributes.Reason, "history-service", initiatedEventId, source);
                return true;
            });
            registry.WithLockedRun(run, r =>
            {
                if (!r.IsOpen)
                {
                    return;
                }
                HistoryEvent result;
                if (found)
                {
                    result = context.NewEvent(EventType.ExternalWorkflowExecutionCancelRequested);
                    result.ExternalWorkflowExecutionCancelRequestedEventAttributes = new ExternalWorkflowExecutionCancelRequestedEventAttributes
                    {
                        InitiatedEventId = initiatedEventId,
                        Namespace = ns,
                        WorkflowExecution = execution,
                    };
                }
                else
                {
                    result = context.NewEvent(EventType.RequestCancelExternalWorkflowExecutionFailed);
                    result.RequestCancelExternalWorkflowExecutionFailedEventAttributes = new RequestCancelExternalWorkflowExecutionFailedEventAttributes
                    {
                        Cause = CancelExternalWorkflowExecutionFailedCause.ExternalWorkflowExecutionNotFound,
                        InitiatedEventId = initiatedEventId,
                        Namespace = ns,
                        WorkflowExecution = execution,
                        Control = attributes.Control,
                    };
                }
                workflowTasks.AddExternalEvent(r, result);
            });
        });
    }

    /// <summary>An open run loaded from storage: requests it made whose outcome it has not recorded are made again.</summary>
    public void Resume(WorkflowRun run)
    {
        if (!run.IsOpen)
        {
            return;
        }
        var answered = new HashSet<long>();
        foreach (var historyEvent in run.History.Concat(run.Buffer))
        {
            var initiatedEventId = historyEvent.EventType switch
            {
                EventType.ExternalWorkflowExecutionSignaled => historyEvent.ExternalWorkflowExecutionSignaledEventAttributes.InitiatedEventId,
                EventType.SignalExternalWorkflowExecutionFailed => historyEvent.SignalExternalWorkflowExecutionFailedEventAttributes.InitiatedEventId,
                EventType.ExternalWorkflowExecutionCancelRequested => historyEvent.ExternalWorkflowExecutionCancelRequestedEventAttributes.InitiatedEventId,
                EventType.RequestCancelExternalWorkflowExecutionFailed => historyEvent.RequestCancelExternalWorkflowExecutionFailedEventAttributes.InitiatedEventId,
                _ => 0,
            };
            answered.Add(initiatedEventId);
        }
        foreach (var historyEvent in run.History)
        {
            if (answered.Contains(historyEvent.EventId))
            {
                continue;
            }
            if (historyEvent.EventType == EventType.SignalExternalWorkflowExecutionInitiated)
            {
                DeliverSignal(run, historyEvent);
            }
            else if (historyEvent.EventType == EventType.RequestCancelExternalWorkflowExecutionInitiated)
            {
                DeliverCancel(run, historyEvent);
            }
        }
    }
}
