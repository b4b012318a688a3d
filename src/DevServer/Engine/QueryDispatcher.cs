using System.Collections.Concurrent;
using AgentOrchestrator.DevServer.Engine.Errors;
using AgentOrchestrator.DevServer.Engine.State;
using AgentOrchestrator.DevServer.Matching;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Query.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// Queries: attached to the next workflow task when one is pending or in flight, else sent as a query task
/// (whole history, writes nothing). Owns the query tasks waiting for an answer; queries are never stored.
/// </summary>
internal sealed class QueryDispatcher(ExecutionRegistry registry, WorkflowTaskDispatcher workflowTasks)
{
    private readonly ConcurrentDictionary<string, PendingQuery> _pending = new(StringComparer.Ordinal);

    public async Task<QueryWorkflowResponse> QueryAsync(QueryWorkflowRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.Query?.QueryType))
        {
            throw new InvalidRequestException("QueryType is not set on request.");
        }
        var pending = new PendingQuery { QueryId = Guid.NewGuid().ToString(), Query = request.Query };
        var rejected = registry.ReadRun(request.Namespace, request.Execution, run =>
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
                    Dispatch(run, pending);
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
            _pending.TryRemove(pending.QueryId, out _);
            throw new QueryTimedOutException();
        }
        if (result.ResultType == QueryResultType.Answered)
        {
            return new QueryWorkflowResponse { QueryResult = result.Answer };
        }
        throw new QueryFailedException(result.ErrorMessage, result.Failure);
    }

    /// <summary>A query task carries the whole history and writes nothing; it is built when a worker takes it.</summary>
    public void Dispatch(WorkflowRun run, PendingQuery query)
    {
        workflowTasks.EnqueueQueryTask(run, new QueryTaskDispatch(this, run, query));
        _pending[query.QueryId] = query;
    }

    /// <summary>Answers the queries that rode on a completed workflow task; unanswered ones wait for the next task.</summary>
    public void AnswerInFlight(WorkflowRun run, RespondWorkflowTaskCompletedRequest request)
    {
        foreach (var query in run.QueriesInFlight)
        {
            if (request.QueryResults.TryGetValue(query.QueryId, out var result))
            {
                query.Result.TrySetResult(result);
            }
            else if (run.IsOpen)
            {
                run.QueriesForNextTask.Add(query);
            }
            else
            {
                Dispatch(run, query);
            }
        }
        run.QueriesInFlight.Clear();
    }

    /// <summary>Queries that were waiting for a workflow task are answered from the closed run's history.</summary>
    public void OnRunClosed(WorkflowRun run)
    {
        foreach (var query in run.QueriesForNextTask.Concat(run.QueriesInFlight))
        {
            Dispatch(run, query);
        }
        run.QueriesForNextTask.Clear();
        run.QueriesInFlight.Clear();
    }

    /// <summary>Queries that arrived during a task with no task to ride on go out as query tasks.</summary>
    public void DispatchWaiting(WorkflowRun run)
    {
        foreach (var query in run.QueriesForNextTask)
        {
            Dispatch(run, query);
        }
        run.QueriesForNextTask.Clear();
    }

    private PollWorkflowTaskQueueResponse? TryStart(WorkflowRun run, PendingQuery query)
    {
        if (query.Result.Task.IsCompleted)
        {
            _pending.TryRemove(query.QueryId, out _);
            return null;
        }
        return registry.WithLockedRun(run, run =>
        {
            if (run.IsOpen && run.Wft != WorkflowTaskState.None)
            {
                // A workflow task got ahead of the query task: the query rides on that task instead, so the
                // worker never sees a history that ends in a started, unfinished task.
                _pending.TryRemove(query.QueryId, out _);
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
        });
    }

    public RespondQueryTaskCompletedResponse Complete(RespondQueryTaskCompletedRequest request)
    {
        var token = TaskToken.Parse(request.TaskToken, TaskToken.QueryTask);
        if (!_pending.TryRemove(token.RunId, out var query))
        {
            throw new NotFoundException("query task not found, or already expired");
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

    private sealed class QueryTaskDispatch(QueryDispatcher dispatcher, WorkflowRun run, PendingQuery query) : IDispatchable<PollWorkflowTaskQueueResponse>
    {
        public DispatchKey Key { get; } = DispatchKey.From(run.Priority) with { PriorityKey = 1 };

        public PollWorkflowTaskQueueResponse? TryStart(string identity) => dispatcher.TryStart(run, query);
    }
}
