using AgentOrchestrator.DevServer.Grpc;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Protocol.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

internal sealed partial class WorkflowEngine
{
    public async Task<PollWorkflowTaskQueueResponse> PollWorkflowTaskAsync(PollWorkflowTaskQueueRequest request, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.TaskQueue?.Name))
        {
            throw GrpcErrors.InvalidArgument("TaskQueue is not set on request.");
        }
        if (request.TaskQueue.Kind == TaskQueueKind.Sticky && !Options.StickyDispatch)
        {
            try
            {
                await Task.Delay(maxWait, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
            return new PollWorkflowTaskQueueResponse();
        }
        var queue = GetNamespace(request.Namespace).WorkflowQueue(request.TaskQueue.Name);
        var response = await queue.PollAsync(request.Identity ?? string.Empty, maxWait, () => _metrics.PollWaited("workflow"), cancellationToken);
        if (response is null)
        {
            _metrics.PollTimedOut("workflow");
            return new PollWorkflowTaskQueueResponse();
        }
        _metrics.TaskDispatched("workflow");
        return response;
    }

    /// <summary>Starts a scheduled workflow task for a live poller, or returns null when the task went stale.</summary>
    private PollWorkflowTaskQueueResponse? TryStartWorkflowTask(WorkflowRun run, long scheduledEventId, int attempt, string identity, bool sticky)
    {
        lock (run.Chain)
        {
            if (!run.IsOpen || run.Wft != WorkflowTaskState.Scheduled || run.WftScheduledEventId != scheduledEventId || run.WftAttempt != attempt)
            {
                return null;
            }
            var started = NewEvent(EventType.WorkflowTaskStarted);
            started.WorkflowTaskStartedEventAttributes = new WorkflowTaskStartedEventAttributes
            {
                ScheduledEventId = scheduledEventId,
                Identity = identity,
                RequestId = Guid.NewGuid().ToString(),
                HistorySizeBytes = 0,
            };
            run.Append(started);
            started.WorkflowTaskStartedEventAttributes.HistorySizeBytes = HistorySize(run);
            run.Wft = WorkflowTaskState.Started;
            run.WftStartedEventId = started.EventId;
            run.WftTimeoutTimer = StartTimer(run.WorkflowTaskTimeout, () => TimeOutWorkflowTask(run, scheduledEventId, attempt));

            var response = new PollWorkflowTaskQueueResponse
            {
                TaskToken = new TaskToken(TaskToken.WorkflowTask, run.NamespaceName, run.WorkflowId, run.RunId, scheduledEventId, attempt).ToByteString(),
                WorkflowExecution = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId },
                WorkflowType = run.StartAttributes.WorkflowType.Clone(),
                WorkflowExecutionTaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = run.TaskQueue, Kind = TaskQueueKind.Normal },
                PreviousStartedEventId = run.PreviousStartedEventId,
                StartedEventId = started.EventId,
                Attempt = attempt,
                BacklogCountHint = 0,
                History = new History(),
                ScheduledTime = Timestamp.FromDateTime(run.WftScheduledTime),
                StartedTime = started.EventTime,
            };
            // A sticky worker has the run cached up to the last completed task: it only needs what came after.
            var from = sticky ? (int)run.PreviousStartedEventId : 0;
            for (var i = from; i < run.History.Count; i++)
            {
                response.History.Events.Add(run.History[i]);
            }
            foreach (var query in run.QueriesForNextTask)
            {
                response.Queries[query.QueryId] = query.Query;
                run.QueriesInFlight.Add(query);
            }
            run.QueriesForNextTask.Clear();
            foreach (var update in run.Updates.Values)
            {
                if (update.Phase == UpdatePhase.Admitted)
                {
                    update.Phase = UpdatePhase.Delivered;
                    response.Messages.Add(new Message
                    {
                        Id = update.UpdateId + "/request",
                        ProtocolInstanceId = update.UpdateId,
                        EventId = started.EventId - 1,
                        Body = Any.Pack(update.Request),
                    });
                }
            }
            EngineLog.WorkflowTaskStarted(_logger, run.WorkflowId, run.RunId, scheduledEventId, attempt);
            return response;
        }
    }

    private static long HistorySize(WorkflowRun run)
    {
        long size = 0;
        foreach (var historyEvent in run.History)
        {
            size += historyEvent.CalculateSize();
        }
        return size;
    }

    private WorkflowRun RunForTask(TaskToken token, out WorkflowChain chain)
    {
        chain = FindChain(token.Namespace, token.WorkflowId) ?? throw GrpcErrors.NotFound("workflow execution not found");
        return chain.Find(token.RunId) ?? throw GrpcErrors.NotFound("workflow execution not found");
    }

    private static void EnsureCurrentWorkflowTask(WorkflowRun run, TaskToken token)
    {
        if (!run.IsOpen)
        {
            throw GrpcErrors.WorkflowCompleted();
        }
        if (run.Wft != WorkflowTaskState.Started || run.WftScheduledEventId != token.ScheduledEventId || run.WftAttempt != token.Attempt)
        {
            throw GrpcErrors.NotFound("Workflow task not found.");
        }
    }

    private void TimeOutWorkflowTask(WorkflowRun run, long scheduledEventId, int attempt)
    {
        lock (run.Chain)
        {
            if (!run.IsOpen || run.Wft != WorkflowTaskState.Started || run.WftScheduledEventId != scheduledEventId || run.WftAttempt != attempt)
            {
                return;
            }
            var timedOut = NewEvent(EventType.WorkflowTaskTimedOut);
            timedOut.WorkflowTaskTimedOutEventAttributes = new WorkflowTaskTimedOutEventAttributes
            {
                ScheduledEventId = run.WftScheduledEventId,
                StartedEventId = run.WftStartedEventId,
                TimeoutType = TimeoutType.StartToClose,
            };
            EngineLog.WorkflowTaskTimedOut(_logger, run.WorkflowId, run.RunId, scheduledEventId);
            EndWorkflowTaskUnsuccessfully(run, timedOut, nextAttempt: attempt + 1);
        }
    }

    public RespondWorkflowTaskFailedResponse FailWorkflowTask(RespondWorkflowTaskFailedRequest request)
    {
        var token = TaskToken.Parse(request.TaskToken, TaskToken.WorkflowTask);
        var run = RunForTask(token, out var chain);
        lock (chain)
        {
            EnsureCurrentWorkflowTask(run, token);
            var failed = NewEvent(EventType.WorkflowTaskFailed);
            failed.WorkflowTaskFailedEventAttributes = new WorkflowTaskFailedEventAttributes
            {
                ScheduledEventId = run.WftScheduledEventId,
                StartedEventId = run.WftStartedEventId,
                Cause = request.Cause,
                Failure = request.Failure,
                Identity = request.Identity ?? string.Empty,
            };
            EngineLog.WorkflowTaskFailed(_logger, run.WorkflowId, run.RunId, request.Cause);
            EndWorkflowTaskUnsuccessfully(run, failed, nextAttempt: token.Attempt + 1);
        }
        return new RespondWorkflowTaskFailedResponse();
    }

    /// <summary>Records a failed or timed-out workflow task, writes what was buffered and schedules the retry.</summary>
    private void EndWorkflowTaskUnsuccessfully(WorkflowRun run, HistoryEvent failureEvent, int nextAttempt)
    {
        run.WftTimeoutTimer?.Dispose();
        // The worker evicts the run after a failed task: its cache can no longer be trusted.
        run.StickyQueue = null;
        run.Append(failureEvent);
        FlushBuffer(run);
        run.Wft = WorkflowTaskState.None;
        run.WftAttempt = nextAttempt;
        // Updates and queries handed to the failed task are offered again on the retry.
        foreach (var update in run.Updates.Values)
        {
            if (update.Phase == UpdatePhase.Delivered)
            {
                update.Phase = UpdatePhase.Admitted;
            }
        }
        run.QueriesForNextTask.InsertRange(0, run.QueriesInFlight);
        run.QueriesInFlight.Clear();
        ScheduleWorkflowTask(run);
        run.NotifyHistoryChanged();
    }

    /// <summary>
    /// The terminating paths (terminate, timeout) close a run whose workflow task may be in flight: the
    /// real server records the task as failed first so the history keeps a valid task sequence.
    /// </summary>
    private void FailStartedTaskForClose(WorkflowRun run)
    {
        if (run.Wft == WorkflowTaskState.Started)
        {
            run.WftTimeoutTimer?.Dispose();
            var failed = NewEvent(EventType.WorkflowTaskFailed);
            failed.WorkflowTaskFailedEventAttributes = new WorkflowTaskFailedEventAttributes
            {
                ScheduledEventId = run.WftScheduledEventId,
                StartedEventId = run.WftStartedEventId,
                Cause = WorkflowTaskFailedCause.ForceCloseCommand,
            };
            run.Append(failed);
        }
        FlushBuffer(run);
        run.Wft = WorkflowTaskState.None;
    }

    public RespondWorkflowTaskCompletedResponse CompleteWorkflowTask(RespondWorkflowTaskCompletedRequest request)
    {
        var token = TaskToken.Parse(request.TaskToken, TaskToken.WorkflowTask);
        var run = RunForTask(token, out var chain);
        lock (chain)
        {
            EnsureCurrentWorkflowTask(run, token);
            var completion = new WorkflowTaskCompletion(this, run, request);
            completion.Apply();
        }
        return new RespondWorkflowTaskCompletedResponse();
    }

    internal static bool IsClosingCommand(CommandType type) => type is CommandType.CompleteWorkflowExecution
        or CommandType.FailWorkflowExecution or CommandType.CancelWorkflowExecution or CommandType.ContinueAsNewWorkflowExecution;
}
