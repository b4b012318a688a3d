using AgentOrchestrator.DevServer.Engine.Errors;
using AgentOrchestrator.DevServer.Engine.State;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Protocol.V1;
using Temporalio.Api.Update.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// Workflow updates: admission (a repeated update id attaches to the existing update), delivery on the next
/// workflow task, the worker's acceptance, rejection and response, waits and polls, and update-with-start.
/// </summary>
internal sealed class UpdateCoordinator(EngineContext context, ExecutionRegistry registry, WorkflowTaskDispatcher workflowTasks, RunLifecycle lifecycle)
{
    public async Task<UpdateWorkflowExecutionResponse> UpdateAsync(UpdateWorkflowExecutionRequest request, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var (run, update) = Admit(request);
        var stage = request.WaitPolicy?.LifecycleStage ?? UpdateWorkflowExecutionLifecycleStage.Unspecified;
        var reached = await WaitAsync(run, update, stage, maxWait, cancellationToken);
        return new UpdateWorkflowExecutionResponse
        {
            UpdateRef = new UpdateRef { WorkflowExecution = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId }, UpdateId = update.UpdateId },
            Stage = reached.Stage,
            Outcome = reached.Outcome,
        };
    }

    private (WorkflowRun Run, UpdateState Update) Admit(UpdateWorkflowExecutionRequest request)
    {
        var updateRequest = request.Request;
        if (updateRequest?.Meta is null || string.IsNullOrEmpty(updateRequest.Input?.Name))
        {
            throw new InvalidRequestException("Update request must carry meta and an input name.");
        }
        if (string.IsNullOrEmpty(updateRequest.Meta.UpdateId))
        {
            updateRequest.Meta.UpdateId = Guid.NewGuid().ToString();
        }
        return registry.WithRun(request.Namespace, request.WorkflowExecution, run =>
        {
            RunLifecycle.EnsureChainMember(run, request.FirstExecutionRunId);
            // A repeated update id attaches to the existing update (the client re-sends until accepted).
            if (Find(run.Chain, updateRequest.Meta.UpdateId) is { } existing)
            {
                return existing;
            }
            if (!run.IsOpen)
            {
                throw NotFoundException.WorkflowCompleted();
            }
            var update = new UpdateState { UpdateId = updateRequest.Meta.UpdateId, Request = updateRequest };
            run.Updates.Add(update.UpdateId, update);
            if (run.Wft == WorkflowTaskState.None)
            {
                workflowTasks.Schedule(run);
            }
            EngineLog.UpdateAdmitted(context.Logger, run.WorkflowId, run.RunId, update.UpdateId);
            return (run, update);
        });
    }

    private static (WorkflowRun Run, UpdateState Update)? Find(WorkflowChain chain, string updateId)
    {
        foreach (var candidate in chain.Runs)
        {
            if (candidate.Updates.TryGetValue(updateId, out var found))
            {
                return (candidate, found);
            }
        }
        return null;
    }

    private readonly record struct UpdateProgress(UpdateWorkflowExecutionLifecycleStage Stage, Outcome? Outcome);

    /// <summary>Waits until the update reaches <paramref name="wanted"/> or the soft timeout passes, then reports where it is.</summary>
    private static async Task<UpdateProgress> WaitAsync(WorkflowRun run, UpdateState update, UpdateWorkflowExecutionLifecycleStage wanted,
        TimeSpan maxWait, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(maxWait);
        while (true)
        {
            Task changed;
            UpdateProgress progress;
            lock (run.Chain)
            {
                if (update.Aborted is { } aborted)
                {
                    throw aborted;
                }
                progress = new UpdateProgress(StageOf(update), update.Outcome);
                changed = update.Changed;
            }
            if (progress.Stage >= wanted && wanted != UpdateWorkflowExecutionLifecycleStage.Unspecified ||
                progress.Stage == UpdateWorkflowExecutionLifecycleStage.Completed)
            {
                return progress;
            }
            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                return progress;
            }
        }
    }

    private static UpdateWorkflowExecutionLifecycleStage StageOf(UpdateState update) => update.Phase switch
    {
        UpdatePhase.Accepted => UpdateWorkflowExecutionLifecycleStage.Accepted,
        UpdatePhase.Completed => UpdateWorkflowExecutionLifecycleStage.Completed,
        _ => UpdateWorkflowExecutionLifecycleStage.Admitted,
    };

    public async Task<PollWorkflowExecutionUpdateResponse> PollAsync(PollWorkflowExecutionUpdateRequest request, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var updateRef = request.UpdateRef ?? throw new InvalidRequestException("UpdateRef is not set on request.");
        var (run, update) = registry.ReadRun(request.Namespace, updateRef.WorkflowExecution,
            current => Find(current.Chain, updateRef.UpdateId) ?? throw new NotFoundException($"update {updateRef.UpdateId} not found"));
        var stage = request.WaitPolicy?.LifecycleStage ?? UpdateWorkflowExecutionLifecycleStage.Unspecified;
        var reached = await WaitAsync(run, update, stage, maxWait, cancellationToken);
        return new PollWorkflowExecutionUpdateResponse
        {
            Stage = reached.Stage,
            Outcome = reached.Outcome,
            UpdateRef = new UpdateRef { WorkflowExecution = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId }, UpdateId = update.UpdateId },
        };
    }

    /// <summary>Applies the worker's acceptance or response (a protocol message command) to its update.</summary>
    public void ApplyMessage(WorkflowRun run, Message message)
    {
        if (!run.Updates.TryGetValue(message.ProtocolInstanceId, out var update))
        {
            return;
        }
        if (message.Body.Is(Acceptance.Descriptor))
        {
            var acceptance = message.Body.Unpack<Acceptance>();
            var accepted = context.NewEvent(EventType.WorkflowExecutionUpdateAccepted);
            accepted.WorkflowExecutionUpdateAcceptedEventAttributes = new WorkflowExecutionUpdateAcceptedEventAttributes
            {
                ProtocolInstanceId = update.UpdateId,
                AcceptedRequestMessageId = acceptance.AcceptedRequestMessageId,
                AcceptedRequestSequencingEventId = acceptance.AcceptedRequestSequencingEventId,
                AcceptedRequest = acceptance.AcceptedRequest ?? update.Request,
            };
            run.Append(accepted);
            update.AcceptedEventId = accepted.EventId;
            update.Phase = UpdatePhase.Accepted;
            update.NotifyChanged();
        }
        else if (message.Body.Is(Response.Descriptor))
        {
            var response = message.Body.Unpack<Response>();
            var completedEvent = context.NewEvent(EventType.WorkflowExecutionUpdateCompleted);
            completedEvent.WorkflowExecutionUpdateCompletedEventAttributes = new WorkflowExecutionUpdateCompletedEventAttributes
            {
                Meta = response.Meta,
                AcceptedEventId = update.AcceptedEventId,
                Outcome = response.Outcome,
            };
            run.Append(completedEvent);
            update.Outcome = response.Outcome;
            update.Phase = UpdatePhase.Completed;
            update.NotifyChanged();
        }
    }

    /// <summary>Rejections travel without a command and write no event; a delivered update left unanswered is rejected.</summary>
    public static void ApplyRejections(WorkflowRun run, RespondWorkflowTaskCompletedRequest request)
    {
        foreach (var message in request.Messages)
        {
            if (!message.Body.Is(Rejection.Descriptor) || !run.Updates.TryGetValue(message.ProtocolInstanceId, out var update))
            {
                continue;
            }
            var rejection = message.Body.Unpack<Rejection>();
            update.Outcome = new Outcome { Failure = rejection.Failure };
            update.Phase = UpdatePhase.Completed;
            update.NotifyChanged();
        }
        // A delivered update the worker neither accepted nor rejected is rejected, as the real server does.
        foreach (var update in run.Updates.Values)
        {
            if (update.Phase == UpdatePhase.Delivered)
            {
                update.Outcome = new Outcome
                {
                    Failure = new Failure
                    {
                        Message = "Workflow Update is rejected because it wasn't processed by worker. Probably, Workflow Update is not supported by the worker.",
                        ApplicationFailureInfo = new ApplicationFailureInfo(),
                    },
                };
                update.Phase = UpdatePhase.Completed;
                update.NotifyChanged();
            }
        }
    }

    /// <summary>
    /// A run that closes ends its unfinished updates: with continue-as-new the error is retryable so the
    /// client re-sends to the new run; accepted updates fail; otherwise the client learns the workflow is gone.
    /// </summary>
    public static void AbortOpen(WorkflowRun run, bool chainContinues)
    {
        List<string>? retryOnNextRun = null;
        foreach (var update in run.Updates.Values)
        {
            if (update.Phase == UpdatePhase.Completed)
            {
                continue;
            }
            if (chainContinues && update.Phase is UpdatePhase.Admitted or UpdatePhase.Delivered)
            {
                update.Aborted = new WorkflowClosingException();
                (retryOnNextRun ??= []).Add(update.UpdateId);
            }
            else if (update.Phase == UpdatePhase.Accepted)
            {
                // The client already saw it accepted, so it gets an update failure rather than NOT_FOUND (as the real server does).
                update.Outcome = new Outcome
                {
                    Failure = new Failure
                    {
                        Message = "Workflow Update failed because the Workflow completed before the Update completed.",
                        Source = "Server",
                        ApplicationFailureInfo = new ApplicationFailureInfo { Type = "AcceptedUpdateCompletedWorkflow", NonRetryable = true },
                    },
                };
                update.Phase = UpdatePhase.Completed;
            }
            else
            {
                update.Aborted = NotFoundException.WorkflowCompleted();
            }
            update.NotifyChanged();
        }
        // Forgotten here, so the client's retry of the same update id is admitted on the new run.
        foreach (var updateId in retryOnNextRun ?? [])
        {
            run.Updates.Remove(updateId);
        }
    }

    /// <summary>A closed run loaded from storage: updates it never finished end as they did when it closed.</summary>
    public static void Resume(WorkflowRun run)
    {
        if (run.IsOpen)
        {
            return;
        }
        foreach (var update in run.Updates.Values)
        {
            if (update.Phase != UpdatePhase.Completed)
            {
                update.Aborted = NotFoundException.WorkflowCompleted();
            }
        }
    }

    public async Task<ExecuteMultiOperationResponse> ExecuteMultiOperationAsync(ExecuteMultiOperationRequest request, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (request.Operations.Count != 2 || request.Operations[0].StartWorkflow is not { } start || request.Operations[1].UpdateWorkflow is not { } update)
        {
            throw new InvalidRequestException("ExecuteMultiOperation supports exactly [StartWorkflow, UpdateWorkflow].");
        }
        StartWorkflowExecutionResponse started;
        try
        {
            if (start.WorkflowIdConflictPolicy == WorkflowIdConflictPolicy.Unspecified)
            {
                throw new InvalidRequestException("WorkflowIdConflictPolicy must be set for update-with-start.");
            }
            started = lifecycle.StartWorkflow(start);
        }
        catch (EngineException error)
        {
            throw new MultiOperationException(failedIndex: 0, operationCount: 2, error);
        }
        update.WorkflowExecution = new WorkflowExecution { WorkflowId = start.WorkflowId, RunId = started.RunId };
        UpdateWorkflowExecutionResponse updated;
        try
        {
            updated = await UpdateAsync(update, maxWait, cancellationToken);
        }
        catch (EngineException error)
        {
            throw new MultiOperationException(failedIndex: 1, operationCount: 2, error);
        }
        return new ExecuteMultiOperationResponse
        {
            Responses =
            {
                new ExecuteMultiOperationResponse.Types.Response { StartWorkflow = started },
                new ExecuteMultiOperationResponse.Types.Response { UpdateWorkflow = updated },
            },
        };
    }
}
