using AgentOrchestrator.DevServer.Grpc;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.ErrorDetails.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Query.V1;
using Temporalio.Api.Update.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

internal sealed partial class WorkflowEngine
{
    public SignalWorkflowExecutionResponse Signal(SignalWorkflowExecutionRequest request)
    {
        if (string.IsNullOrEmpty(request.SignalName))
        {
            throw GrpcErrors.InvalidArgument("SignalName is not set on request.");
        }
        return WithRun(request.Namespace, request.WorkflowExecution, run =>
        {
            if (!run.IsOpen)
            {
                throw GrpcErrors.WorkflowCompleted();
            }
            // A retried RPC carries the same request id: deliver the signal once.
            if (!string.IsNullOrEmpty(request.RequestId) && !run.SignalRequestIds.Add(request.RequestId))
            {
                return new SignalWorkflowExecutionResponse();
            }
            var signaled = NewEvent(EventType.WorkflowExecutionSignaled);
            signaled.WorkflowExecutionSignaledEventAttributes = new WorkflowExecutionSignaledEventAttributes
            {
                SignalName = request.SignalName,
                Input = request.Input,
                Identity = request.Identity ?? string.Empty,
                Header = request.Header,
                RequestId = request.RequestId ?? string.Empty,
            };
            AddExternalEvent(run, signaled);
            return new SignalWorkflowExecutionResponse();
        });
    }

    public RequestCancelWorkflowExecutionResponse RequestCancel(RequestCancelWorkflowExecutionRequest request) =>
        WithRun(request.Namespace, request.WorkflowExecution, run =>
        {
            EnsureChainMember(run, request.FirstExecutionRunId);
            RequestCancelLocked(run, request.Reason, request.Identity, externalInitiatedEventId: 0, externalExecution: null);
            return new RequestCancelWorkflowExecutionResponse();
        });

    private static void EnsureChainMember(WorkflowRun run, string? firstExecutionRunId)
    {
        if (!string.IsNullOrEmpty(firstExecutionRunId) && run.StartAttributes.FirstExecutionRunId != firstExecutionRunId)
        {
            throw GrpcErrors.WorkflowNotFound(run.WorkflowId, firstExecutionRunId);
        }
    }

    /// <summary>Cancelling a closed or already cancel-requested run is a successful no-op.</summary>
    private void RequestCancelLocked(WorkflowRun run, string? reason, string? identity, long externalInitiatedEventId, WorkflowExecution? externalExecution)
    {
        if (!run.IsOpen || run.CancelRequested)
        {
            return;
        }
        run.CancelRequested = true;
        var requested = NewEvent(EventType.WorkflowExecutionCancelRequested);
        requested.WorkflowExecutionCancelRequestedEventAttributes = new WorkflowExecutionCancelRequestedEventAttributes
        {
            Cause = reason ?? string.Empty,
            Identity = identity ?? string.Empty,
            ExternalInitiatedEventId = externalInitiatedEventId,
            ExternalWorkflowExecution = externalExecution,
        };
        AddExternalEvent(run, requested);
    }

    public TerminateWorkflowExecutionResponse Terminate(TerminateWorkflowExecutionRequest request) =>
        WithRun(request.Namespace, request.WorkflowExecution, run =>
        {
            EnsureChainMember(run, request.FirstExecutionRunId);
            if (!run.IsOpen)
            {
                throw GrpcErrors.WorkflowCompleted();
            }
            TerminateLocked(run, request.Reason, request.Details, request.Identity);
            return new TerminateWorkflowExecutionResponse();
        });

    private void TerminateLocked(WorkflowRun run, string? reason, Payloads? details, string? identity)
    {
        if (!run.IsOpen)
        {
            return;
        }
        FailStartedTaskForClose(run);
        var terminated = NewEvent(EventType.WorkflowExecutionTerminated);
        terminated.WorkflowExecutionTerminatedEventAttributes = new WorkflowExecutionTerminatedEventAttributes
        {
            Reason = reason ?? string.Empty,
            Details = details,
            Identity = identity ?? string.Empty,
        };
        CloseRun(run, WorkflowExecutionStatus.Terminated, terminated, chainContinues: false);
    }

    // ---- Queries ----

    public async Task<QueryWorkflowResponse> QueryAsync(QueryWorkflowRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.Query?.QueryType))
        {
            throw GrpcErrors.InvalidArgument("QueryType is not set on request.");
        }
        var pending = new PendingQuery { QueryId = Guid.NewGuid().ToString(), Query = request.Query };
        var rejected = WithRun(request.Namespace, request.Execution, run =>
        {
            if (!run.IsOpen && (request.QueryRejectCondition == QueryRejectCondition.NotOpen ||
                (request.QueryRejectCondition == QueryRejectCondition.NotCompletedCleanly && run.Status != WorkflowExecutionStatus.Completed)))
            {
                return new QueryWorkflowResponse { QueryRejected = new QueryRejected { Status = run.Status } };
            }
            switch (run.IsOpen ? run.Wft : WorkflowTaskState.None)
            {
                case WorkflowTaskState.Scheduled:
                    run.QueriesForNextTask.Add(pending);
                    break;
                case WorkflowTaskState.Started:
                    // Answered after the task in flight: on the next task if one follows, else as a query task.
                    run.QueriesForNextTask.Add(pending);
                    break;
                default:
                    DispatchLegacyQuery(run, pending);
                    break;
            }
            return null;
        });
        if (rejected is not null)
        {
            return rejected;
        }
        WorkflowQueryResult result;
        try
        {
            result = await pending.Result.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Nobody waits any more: a query task still queued for it is dropped when a worker takes it.
            pending.Result.TrySetCanceled(CancellationToken.None);
            PendingQueries.TryRemove(pending.QueryId, out _);
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, "query timed out before the workflow answered"));
        }
        if (result.ResultType == QueryResultType.Answered)
        {
            return new QueryWorkflowResponse { QueryResult = result.Answer };
        }
        throw GrpcErrors.WithDetail(StatusCode.InvalidArgument, result.ErrorMessage, new QueryFailedFailure { Failure = result.Failure });
    }

    /// <summary>A query task carries the whole history and writes nothing; it is built when a worker takes it.</summary>
    private void DispatchLegacyQuery(WorkflowRun run, PendingQuery query)
    {
        run.Chain.Namespace.WorkflowQueue(run.TaskQueue).Add(new QueryTaskDispatch(this, run, query));
        PendingQueries[query.QueryId] = query;
    }

    private System.Collections.Concurrent.ConcurrentDictionary<string, PendingQuery> PendingQueries { get; } = new(StringComparer.Ordinal);

    private PollWorkflowTaskQueueResponse? TryStartQueryTask(WorkflowRun run, PendingQuery query)
    {
        if (query.Result.Task.IsCompleted)
        {
            PendingQueries.TryRemove(query.QueryId, out _);
            return null;
        }
        lock (run.Chain)
        {
            if (run.IsOpen && run.Wft != WorkflowTaskState.None)
            {
                // A workflow task got ahead of the query task: the query rides on that task instead, so the
                // worker never sees a history that ends in a started, unfinished task.
                PendingQueries.TryRemove(query.QueryId, out _);
                run.QueriesForNextTask.Add(query);
                return null;
            }
            var response = new PollWorkflowTaskQueueResponse
            {
                TaskToken = new TaskToken(TaskToken.QueryTask, run.NamespaceName, run.WorkflowId, query.QueryId, 0, 0).ToByteString(),
                WorkflowExecution = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId },
                WorkflowType = run.StartAttributes.WorkflowType.Clone(),
                WorkflowExecutionTaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = run.TaskQueue, Kind = TaskQueueKind.Normal },
                PreviousStartedEventId = run.PreviousStartedEventId,
                StartedEventId = 0,
                Query = query.Query,
                History = new History(),
            };
            // No task is in flight, so this is the history up to the last point the workflow reached.
            foreach (var historyEvent in run.History)
            {
                response.History.Events.Add(historyEvent);
            }
            return response;
        }
    }

    public RespondQueryTaskCompletedResponse CompleteQueryTask(RespondQueryTaskCompletedRequest request)
    {
        var token = TaskToken.Parse(request.TaskToken, TaskToken.QueryTask);
        if (!PendingQueries.TryRemove(token.RunId, out var query))
        {
            throw GrpcErrors.NotFound("query task not found, or already expired");
        }
        query.Result.TrySetResult(new WorkflowQueryResult
        {
            ResultType = request.CompletedType,
            Answer = request.QueryResult,
            ErrorMessage = request.ErrorMessage ?? string.Empty,
            Failure = request.Failure,
        });
        return new RespondQueryTaskCompletedResponse();
    }

    private sealed class QueryTaskDispatch(WorkflowEngine engine, WorkflowRun run, PendingQuery query)
        : Matching.IDispatchable<PollWorkflowTaskQueueResponse>
    {
        public Matching.DispatchKey Key { get; } = Matching.DispatchKey.From(run.Priority) with { PriorityKey = 1 };

        public PollWorkflowTaskQueueResponse? TryStart(string identity) => engine.TryStartQueryTask(run, query);
    }

    // ---- Updates ----

    public async Task<UpdateWorkflowExecutionResponse> UpdateAsync(UpdateWorkflowExecutionRequest request, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var (run, update) = AdmitUpdate(request);
        var stage = request.WaitPolicy?.LifecycleStage ?? UpdateWorkflowExecutionLifecycleStage.Unspecified;
        var reached = await WaitForUpdateAsync(run, update, stage, maxWait, cancellationToken);
        return new UpdateWorkflowExecutionResponse
        {
            UpdateRef = new UpdateRef { WorkflowExecution = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId }, UpdateId = update.UpdateId },
            Stage = reached.Stage,
            Outcome = reached.Outcome,
        };
    }

    private (WorkflowRun Run, UpdateState Update) AdmitUpdate(UpdateWorkflowExecutionRequest request)
    {
        var updateRequest = request.Request;
        if (updateRequest?.Meta is null || string.IsNullOrEmpty(updateRequest.Input?.Name))
        {
            throw GrpcErrors.InvalidArgument("Update request must carry meta and an input name.");
        }
        if (string.IsNullOrEmpty(updateRequest.Meta.UpdateId))
        {
            updateRequest.Meta.UpdateId = Guid.NewGuid().ToString();
        }
        return WithRun(request.Namespace, request.WorkflowExecution, run =>
        {
            EnsureChainMember(run, request.FirstExecutionRunId);
            // A repeated update id attaches to the existing update (the client re-sends until accepted).
            foreach (var candidate in run.Chain.Runs)
            {
                if (candidate.Updates.TryGetValue(updateRequest.Meta.UpdateId, out var existing))
                {
                    return (candidate, existing);
                }
            }
            if (!run.IsOpen)
            {
                throw GrpcErrors.WorkflowCompleted();
            }
            var update = new UpdateState { UpdateId = updateRequest.Meta.UpdateId, Request = updateRequest };
            run.Updates.Add(update.UpdateId, update);
            if (run.Wft == WorkflowTaskState.None)
            {
                ScheduleWorkflowTask(run);
            }
            EngineLog.UpdateAdmitted(_logger, run.WorkflowId, run.RunId, update.UpdateId);
            return (run, update);
        });
    }

    private readonly record struct UpdateProgress(UpdateWorkflowExecutionLifecycleStage Stage, Outcome? Outcome);

    /// <summary>Waits until the update reaches <paramref name="wanted"/> or the soft timeout passes, then reports where it is.</summary>
    private static async Task<UpdateProgress> WaitForUpdateAsync(WorkflowRun run, UpdateState update, UpdateWorkflowExecutionLifecycleStage wanted,
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

    public async Task<PollWorkflowExecutionUpdateResponse> PollUpdateAsync(PollWorkflowExecutionUpdateRequest request, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var updateRef = request.UpdateRef ?? throw GrpcErrors.InvalidArgument("UpdateRef is not set on request.");
        var (run, update) = WithRun(request.Namespace, updateRef.WorkflowExecution, current =>
        {
            foreach (var candidate in current.Chain.Runs)
            {
                if (candidate.Updates.TryGetValue(updateRef.UpdateId, out var found))
                {
                    return (candidate, found);
                }
            }
            throw GrpcErrors.NotFound($"update {updateRef.UpdateId} not found");
        });
        var stage = request.WaitPolicy?.LifecycleStage ?? UpdateWorkflowExecutionLifecycleStage.Unspecified;
        var reached = await WaitForUpdateAsync(run, update, stage, maxWait, cancellationToken);
        return new PollWorkflowExecutionUpdateResponse
        {
            Stage = reached.Stage,
            Outcome = reached.Outcome,
            UpdateRef = new UpdateRef { WorkflowExecution = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId }, UpdateId = update.UpdateId },
        };
    }

    /// <summary>
    /// A run that closes ends its unfinished updates: with continue-as-new the error is retryable so the
    /// client re-sends to the new run; accepted updates fail; otherwise the client learns the workflow is gone.
    /// </summary>
    private static void AbortOpenUpdates(WorkflowRun run, bool chainContinues)
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
                update.Aborted = new RpcException(new Status(StatusCode.Unavailable, "workflow operation can not be applied because workflow is closing"));
                (retryOnNextRun ??= []).Add(update.UpdateId);
            }
            else if (update.Phase == UpdatePhase.Accepted)
            {
                // The client already saw it accepted, so it gets an update failure rather than NOT_FOUND (as the real server does).
                update.Outcome = new Outcome
                {
                    Failure = new Temporalio.Api.Failure.V1.Failure
                    {
                        Message = "Workflow Update failed because the Workflow completed before the Update completed.",
                        Source = "Server",
                        ApplicationFailureInfo = new Temporalio.Api.Failure.V1.ApplicationFailureInfo { Type = "AcceptedUpdateCompletedWorkflow", NonRetryable = true },
                    },
                };
                update.Phase = UpdatePhase.Completed;
            }
            else
            {
                update.Aborted = GrpcErrors.WorkflowCompleted();
            }
            update.NotifyChanged();
        }
        // Forgotten here, so the client's retry of the same update id is admitted on the new run.
        foreach (var updateId in retryOnNextRun ?? [])
        {
            run.Updates.Remove(updateId);
        }
    }

    public async Task<ExecuteMultiOperationResponse> ExecuteMultiOperationAsync(ExecuteMultiOperationRequest request, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (request.Operations.Count != 2 || request.Operations[0].StartWorkflow is not { } start || request.Operations[1].UpdateWorkflow is not { } update)
        {
            throw GrpcErrors.InvalidArgument("ExecuteMultiOperation supports exactly [StartWorkflow, UpdateWorkflow].");
        }
        StartWorkflowExecutionResponse started;
        try
        {
            if (start.WorkflowIdConflictPolicy == WorkflowIdConflictPolicy.Unspecified)
            {
                throw GrpcErrors.InvalidArgument("WorkflowIdConflictPolicy must be set for update-with-start.");
            }
            started = StartWorkflow(start);
        }
        catch (RpcException error)
        {
            throw MultiOperationFailure(error, failedIndex: 0);
        }
        update.WorkflowExecution = new WorkflowExecution { WorkflowId = start.WorkflowId, RunId = started.RunId };
        UpdateWorkflowExecutionResponse updated;
        try
        {
            updated = await UpdateAsync(update, maxWait, cancellationToken);
        }
        catch (RpcException error)
        {
            throw MultiOperationFailure(error, failedIndex: 1);
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

    private static RpcException MultiOperationFailure(RpcException error, int failedIndex)
    {
        var failure = new MultiOperationExecutionFailure();
        for (var i = 0; i < 2; i++)
        {
            var status = new MultiOperationExecutionFailure.Types.OperationStatus();
            if (i == failedIndex)
            {
                status.Code = (int)error.StatusCode;
                status.Message = error.Status.Detail;
                var rpcStatus = error.GetRpcStatus();
                if (rpcStatus is not null)
                {
                    status.Details.AddRange(rpcStatus.Details);
                }
            }
            else
            {
                status.Code = (int)StatusCode.Aborted;
                status.Message = "Operation was aborted.";
                status.Details.Add(Any.Pack(new Temporalio.Api.Failure.V1.MultiOperationExecutionAborted()));
            }
            failure.Statuses.Add(status);
        }
        return GrpcErrors.WithDetail(error.StatusCode, "MultiOperation could not be executed.", failure);
    }
}
