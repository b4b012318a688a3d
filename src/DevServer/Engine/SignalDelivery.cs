using AgentOrchestrator.DevServer.Engine.Errors;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>Signals from clients, and signal-with-start; a retried call (same request id) is delivered once.</summary>
internal sealed class SignalDelivery(EngineContext context, ExecutionRegistry registry, WorkflowTaskDispatcher workflowTasks, RunLifecycle lifecycle)
{
    public SignalWorkflowExecutionResponse Signal(SignalWorkflowExecutionRequest request)
    {
        if (string.IsNullOrEmpty(request.SignalName))
        {
            throw new InvalidRequestException("SignalName is not set on request.");
        }
        return registry.WithRun(request.Namespace, request.WorkflowExecution, run =>
        {
            if (!run.IsOpen)
            {
                throw NotFoundException.WorkflowCompleted();
            }
            // A retried RPC carries the same request id: deliver the signal once.
            if (!string.IsNullOrEmpty(request.RequestId) && !run.SignalRequestIds.Add(request.RequestId))
            {
                return new SignalWorkflowExecutionResponse();
            }
            var signaled = context.NewEvent(EventType.WorkflowExecutionSignaled);
            signaled.WorkflowExecutionSignaledEventAttributes = new WorkflowExecutionSignaledEventAttributes
            {
                SignalName = request.SignalName,
                Input = request.Input,
                Identity = request.Identity ?? string.Empty,
                Header = request.Header,
                RequestId = request.RequestId ?? string.Empty,
            };
            workflowTasks.AddExternalEvent(run, signaled);
            return new SignalWorkflowExecutionResponse();
        });
    }

    public SignalWithStartWorkflowExecutionResponse SignalWithStart(SignalWithStartWorkflowExecutionRequest request)
    {
        if (string.IsNullOrEmpty(request.SignalName))
        {
            throw new InvalidRequestException("SignalName is not set on request.");
        }
        var spec = StartSpec.From(request.Namespace, request.WorkflowId, request.WorkflowType, request.TaskQueue,
            request.Input, request.WorkflowExecutionTimeout, request.WorkflowRunTimeout, request.WorkflowTaskTimeout,
            request.Identity, request.RequestId, request.WorkflowIdReusePolicy,
            request.WorkflowIdConflictPolicy == WorkflowIdConflictPolicy.Unspecified ? WorkflowIdConflictPolicy.UseExisting : request.WorkflowIdConflictPolicy,
            request.RetryPolicy, request.CronSchedule, request.Memo, request.SearchAttributes, request.Header,
            request.WorkflowStartDelay, request.Priority);
        HistoryEvent SignalEvent()
        {
            var signaled = context.NewEvent(EventType.WorkflowExecutionSignaled);
            signaled.WorkflowExecutionSignaledEventAttributes = new WorkflowExecutionSignaledEventAttributes
            {
                SignalName = request.SignalName,
                Input = request.SignalInput,
                Identity = request.Identity ?? string.Empty,
                Header = request.Header,
            };
            return signaled;
        }
        return registry.WithChain(spec.Namespace, request.WorkflowId, chain =>
        {
            var current = chain.Current;
            if (current is { IsOpen: true } && spec.ConflictPolicy == WorkflowIdConflictPolicy.UseExisting)
            {
                // A retried RPC carries the same request id: deliver the signal once.
                if (current.SignalRequestIds.Add(spec.RequestId))
                {
                    workflowTasks.AddExternalEvent(current, SignalEvent());
                }
                return new SignalWithStartWorkflowExecutionResponse { RunId = current.RunId, Started = false };
            }
            // The signal is written before the first workflow task is scheduled; the start delay still holds.
            var started = lifecycle.StartLocked(chain, spec, run =>
            {
                if (request.UserMetadata is { } metadata)
                {
                    RunLifecycle.SetUserMetadata(run, metadata);
                }
                run.Append(SignalEvent());
            });
            return new SignalWithStartWorkflowExecutionResponse { RunId = started.Run.RunId, Started = started.Started };
        });
    }
}
