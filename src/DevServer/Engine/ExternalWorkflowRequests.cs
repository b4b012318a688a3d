using AgentOrchestrator.DevServer.Engine.State;
using Temporalio.Api.Command.V1;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// A workflow signalling or cancelling another one: the target is reached after the sender's lock is released,
/// then the sender learns whether it was found.
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
        var initiatedEventId = initiated.EventId;
        var source = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId };
        EngineContext.Defer(() =>
        {
            var delivered = registry.WithExternalTarget(ns, command.Execution, target =>
            {
                if (!target.IsOpen)
                {
                    return false;
                }
                var signaled = context.NewEvent(EventType.WorkflowExecutionSignaled);
                signaled.WorkflowExecutionSignaledEventAttributes = new WorkflowExecutionSignaledEventAttributes
                {
                    SignalName = command.SignalName,
                    Input = command.Input,
                    Header = command.Header,
                    ExternalWorkflowExecution = source,
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
                        WorkflowExecution = command.Execution,
                        Control = command.Control,
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
                        WorkflowExecution = command.Execution,
                        Control = command.Control,
                    };
                }
                workflowTasks.AddExternalEvent(r, result);
            });
        });
    }

    public void Cancel(WorkflowRun run, RequestCancelExternalWorkflowExecutionCommandAttributes command, long completedEventId)
    {
        var ns = string.IsNullOrEmpty(command.Namespace) ? run.NamespaceName : command.Namespace;
        var execution = new WorkflowExecution { WorkflowId = command.WorkflowId, RunId = command.RunId ?? string.Empty };
        var initiated = context.NewEvent(EventType.RequestCancelExternalWorkflowExecutionInitiated);
        initiated.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes = new RequestCancelExternalWorkflowExecutionInitiatedEventAttributes
        {
            WorkflowTaskCompletedEventId = completedEventId,
            Namespace = ns,
            NamespaceId = registry.GetNamespace(ns).Id,
            WorkflowExecution = execution,
            Control = command.Control,
            ChildWorkflowOnly = command.ChildWorkflowOnly,
            Reason = command.Reason,
        };
        run.Append(initiated);
        var initiatedEventId = initiated.EventId;
        var source = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId };
        EngineContext.Defer(() =>
        {
            // Cancelling a closed or already cancel-requested run still counts as delivered.
            var found = registry.WithExternalTarget(ns, execution, target =>
            {
                lifecycle.RequestCancelLocked(target, command.Reason, "history-service", initiatedEventId, source);
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
                        Control = command.Control,
                    };
                }
                workflowTasks.AddExternalEvent(r, result);
            });
        });
    }
}
