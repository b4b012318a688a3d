using System.Collections.Concurrent;
using AgentOrchestrator.DevServer.Engine.Errors;
using AgentOrchestrator.DevServer.Engine.State;
using AgentOrchestrator.DevServer.Matching;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Protocol.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// Workflow tasks: scheduling (sticky or normal queue), handing them to polls, their timeouts and failures, and
/// the buffer that holds events arriving while a task is started. Owns the workflow task queues.
/// </summary>
internal sealed class WorkflowTaskDispatcher(EngineContext context, ExecutionRegistry registry)
{
    private readonly ConcurrentDictionary<(string Namespace, string Queue), TaskMatcher<PollWorkflowTaskQueueResponse>> _queues = new();

    /// <summary>Sticky queues of workers that said they shut down: nothing is routed to them any more.</summary>
    private readonly ConcurrentDictionary<(string Namespace, string Queue), bool> _closedStickyQueues = new();

    private TaskMatcher<PollWorkflowTaskQueueResponse> Queue(string ns, string taskQueue) =>
        _queues.GetOrAdd((ns, taskQueue), static _ => new TaskMatcher<PollWorkflowTaskQueueResponse>());

    public async Task<PollWorkflowTaskQueueResponse> PollAsync(PollWorkflowTaskQueueRequest request, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.TaskQueue?.Name))
        {
            throw new InvalidRequestException("TaskQueue is not set on request.");
        }
        if (request.TaskQueue.Kind == TaskQueueKind.Sticky && !context.Options.StickyDispatch)
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
        var queue = Queue(registry.GetNamespace(request.Namespace).Name, request.TaskQueue.Name);
        var response = await queue.PollAsync(request.Identity ?? string.Empty, maxWait, () => context.Metrics.PollWaited("workflow"), cancellationToken);
        if (response is null)
        {
            context.Metrics.PollTimedOut("workflow");
            return new PollWorkflowTaskQueueResponse();
        }
        context.Metrics.TaskDispatched("workflow");
        return response;
    }

    /// <summary>Puts a query task on the run's normal queue (queries never go to a sticky queue).</summary>
    public void EnqueueQueryTask(WorkflowRun run, IDispatchable<PollWorkflowTaskQueueResponse> task) =>
        Queue(run.NamespaceName, run.TaskQueue).Add(task);

    /// <summary>
    /// Adds an event that did not come from the running workflow task's completion. While a workflow
    /// task is started it waits in the buffer (writing it in the middle of the task's sequence breaks
    /// replay); otherwise it is written and, if needed, a workflow task is scheduled.
    /// </summary>
    public void AddExternalEvent(WorkflowRun run, HistoryEvent historyEvent, bool schedulesWorkflowTask = true)
    {
        if (run.Wft == WorkflowTaskState.Started)
        {
            run.Buffer.Add(historyEvent);
            return;
        }
        run.Append(historyEvent);
        if (schedulesWorkflowTask && run.Wft == WorkflowTaskState.None)
        {
            Schedule(run);
        }
        run.NotifyHistoryChanged();
    }

    /// <summary>Writes the events buffered during a task; true when there were any.</summary>
    public static bool FlushBuffer(WorkflowRun run)
    {
        if (run.Buffer.Count == 0)
        {
            return false;
        }
        long lastStartedEventId = 0;
        foreach (var buffered in run.Buffer)
        {
            if (ActivityEvents.HasPendingStartedEventId(buffered))
            {
                ActivityEvents.SetStartedEventId(buffered, lastStartedEventId);
            }
            run.Append(buffered);
            if (buffered.EventType == EventType.ActivityTaskStarted)
            {
                lastStartedEventId = buffered.EventId;
            }
        }
        run.Buffer.Clear();
        return true;
    }

    /// <summary>Schedules the run's next workflow task unless one is pending: on its worker's sticky queue if it has one.</summary>
    public void Schedule(WorkflowRun run)
    {
        if (!run.IsOpen || run.Wft != WorkflowTaskState.None)
        {
            return;
        }
        var scheduled = context.NewEvent(EventType.WorkflowTaskScheduled);
        scheduled.WorkflowTaskScheduledEventAttributes = new WorkflowTaskScheduledEventAttributes
        {
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = run.TaskQueue, Kind = TaskQueueKind.Normal },
            StartToCloseTimeout = Duration.FromTimeSpan(run.WorkflowTaskTimeout),
            Attempt = run.WftAttempt,
        };
        run.Append(scheduled);
        run.Wft = WorkflowTaskState.Scheduled;
        run.WftScheduledEventId = scheduled.EventId;
        run.WftScheduledTime = context.Now.UtcDateTime;
        var ns = run.NamespaceName;
        if (run.StickyQueue is { } sticky && !_closedStickyQueues.ContainsKey((ns, sticky)))
        {
            Queue(ns, sticky).Add(new WorkflowTaskDispatch(this, run, scheduled.EventId, run.WftAttempt, Sticky: true));
            var attempt = run.WftAttempt;
            // Not taken in time (the worker is gone or busy): the task moves to the normal queue with full history.
            run.StickyTimer?.Dispose();
            run.StickyTimer = context.StartTimer(run.StickyScheduleToStart,
                () => registry.WithLockedRun(run, r => MoveToNormalQueue(r, scheduled.EventId, attempt)));
            return;
        }
        run.StickyQueue = null;
        Queue(ns, run.TaskQueue).Add(new WorkflowTaskDispatch(this, run, scheduled.EventId, run.WftAttempt, Sticky: false));
    }

    /// <summary>
    /// Re-arms a run loaded from storage: no sticky worker survives a restart, so a scheduled task goes to the normal
    /// queue (full history); a started one keeps its token and times out counted from when it started (at once when
    /// the workers ran in this process).
    /// </summary>
    public void Resume(WorkflowRun run)
    {
        run.StickyQueue = null;
        if (!run.IsOpen)
        {
            return;
        }
        if (run.Wft == WorkflowTaskState.Scheduled)
        {
            Queue(run.NamespaceName, run.TaskQueue).Add(new WorkflowTaskDispatch(this, run, run.WftScheduledEventId, run.WftAttempt, Sticky: false));
        }
        else if (run.Wft == WorkflowTaskState.Started)
        {
            if (context.Options.WorkersInProcess)
            {
                // Its worker died with the server: time the task out now rather than after its timeout.
                run.WftStartedTime = context.Now.UtcDateTime - run.WorkflowTaskTimeout;
            }
            ArmTimeout(run);
        }
    }

    private void MoveToNormalQueue(WorkflowRun run, long scheduledEventId, int attempt)
    {
        if (run.IsOpen && run.Wft == WorkflowTaskState.Scheduled && run.WftScheduledEventId == scheduledEventId && run.WftAttempt == attempt &&
            run.StickyQueue is not null)
        {
            run.StickyQueue = null;
            Queue(run.NamespaceName, run.TaskQueue).Add(new WorkflowTaskDispatch(this, run, scheduledEventId, attempt, Sticky: false));
        }
    }

    /// <summary>
    /// ResetStickyTaskQueue: the run forgets its worker's sticky queue, so its next task (and one scheduled now) goes to
    /// the normal queue with full history, for any worker.
    /// </summary>
    public ResetStickyTaskQueueResponse ResetSticky(ResetStickyTaskQueueRequest request) =>
        registry.WithRun(request.Namespace, request.Execution, run =>
        {
            if (run.Wft == WorkflowTaskState.Scheduled && run.StickyQueue is not null)
            {
                MoveToNormalQueue(run, run.WftScheduledEventId, run.WftAttempt);
            }
            run.StickyQueue = null;
            run.StickyTimer?.Dispose();
            return new ResetStickyTaskQueueResponse();
        });

    /// <summary>A worker that shuts down hands its sticky tasks back at once instead of after the sticky timeout.</summary>
    public void CloseStickyQueue(string ns, string stickyQueue)
    {
        var name = registry.GetNamespace(ns).Name;
        _closedStickyQueues[(name, stickyQueue)] = true;
        if (!_queues.TryRemove((name, stickyQueue), out var queue))
        {
            return;
        }
        foreach (var task in queue.DrainBacklog())
        {
            if (task is WorkflowTaskDispatch dispatch)
            {
                registry.WithLockedRun(dispatch.Run, r => MoveToNormalQueue(r, dispatch.ScheduledEventId, dispatch.Attempt));
            }
        }
    }

    /// <summary>Starts a scheduled workflow task for a live poller, or returns null when the task went stale.</summary>
    private PollWorkflowTaskQueueResponse? TryStart(WorkflowRun run, long scheduledEventId, int attempt, string identity, bool sticky) =>
        registry.WithLockedRun(run, run =>
        {
            if (!run.IsOpen || run.Wft != WorkflowTaskState.Scheduled || run.WftScheduledEventId != scheduledEventId || run.WftAttempt != attempt)
            {
                return null;
            }
            var started = context.NewEvent(EventType.WorkflowTaskStarted);
            started.WorkflowTaskStartedEventAttributes = new WorkflowTaskStartedEventAttributes
            {
                ScheduledEventId = scheduledEventId,
                Identity = identity,
                RequestId = Guid.NewGuid().ToString(),
                HistorySizeBytes = 0,
            };
            run.Append(started);
            var size = HistorySize(run);
            started.WorkflowTaskStartedEventAttributes.HistorySizeBytes = size;
            // Temporal suggests continue-as-new once a history passes its length or size threshold.
            started.WorkflowTaskStartedEventAttributes.SuggestContinueAsNew =
                run.History.Count >= context.Options.SuggestContinueAsNewHistoryLength || size >= context.Options.SuggestContinueAsNewHistorySize;
            run.Wft = WorkflowTaskState.Started;
            run.WftStartedEventId = started.EventId;
            run.WftStartedTime = context.Now.UtcDateTime;
            ArmTimeout(run);

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
            EngineLog.WorkflowTaskStarted(context.Logger, run.WorkflowId, run.RunId, scheduledEventId, attempt);
            return response;
        });

    private static long HistorySize(WorkflowRun run)
    {
        long size = 0;
        foreach (var historyEvent in run.History)
        {
            size += historyEvent.CalculateSize();
        }
        return size;
    }

    /// <summary>Throws unless the token names the run's workflow task in flight.</summary>
    public static void EnsureCurrent(WorkflowRun run, TaskToken token)
    {
        if (!run.IsOpen)
        {
            throw NotFoundException.WorkflowCompleted();
        }
        if (run.Wft != WorkflowTaskState.Started || run.WftScheduledEventId != token.ScheduledEventId || run.WftAttempt != token.Attempt)
        {
            throw new NotFoundException("Workflow task not found.");
        }
    }

    private void ArmTimeout(WorkflowRun run)
    {
        var (scheduledEventId, attempt) = (run.WftScheduledEventId, run.WftAttempt);
        run.WftTimeoutTimer = context.StartTimerAt(run.WftStartedTime + run.WorkflowTaskTimeout, () => TimeOut(run, scheduledEventId, attempt));
    }

    private void TimeOut(WorkflowRun run, long scheduledEventId, int attempt) => registry.WithLockedRun(run, run =>
    {
        if (!run.IsOpen || run.Wft != WorkflowTaskState.Started || run.WftScheduledEventId != scheduledEventId || run.WftAttempt != attempt)
        {
            return;
        }
        var timedOut = context.NewEvent(EventType.WorkflowTaskTimedOut);
        timedOut.WorkflowTaskTimedOutEventAttributes = new WorkflowTaskTimedOutEventAttributes
        {
            ScheduledEventId = run.WftScheduledEventId,
            StartedEventId = run.WftStartedEventId,
            TimeoutType = TimeoutType.StartToClose,
        };
        EngineLog.WorkflowTaskTimedOut(context.Logger, run.WorkflowId, run.RunId, scheduledEventId);
        EndUnsuccessfully(run, timedOut, nextAttempt: attempt + 1);
    });

    public RespondWorkflowTaskFailedResponse Fail(RespondWorkflowTaskFailedRequest request)
    {
        var token = TaskToken.Parse(request.TaskToken, TaskToken.WorkflowTask);
        return registry.WithTaskRun(token, run =>
        {
            EnsureCurrent(run, token);
            var failed = context.NewEvent(EventType.WorkflowTaskFailed);
            failed.WorkflowTaskFailedEventAttributes = new WorkflowTaskFailedEventAttributes
            {
                ScheduledEventId = run.WftScheduledEventId,
                StartedEventId = run.WftStartedEventId,
                Cause = request.Cause,
                Failure = request.Failure,
                Identity = request.Identity ?? string.Empty,
            };
            EngineLog.WorkflowTaskFailed(context.Logger, run.WorkflowId, run.RunId, request.Cause);
            EndUnsuccessfully(run, failed, nextAttempt: token.Attempt + 1);
            return new RespondWorkflowTaskFailedResponse();
        });
    }

    /// <summary>Records a failed or timed-out workflow task, writes what was buffered and schedules the retry.</summary>
    public void EndUnsuccessfully(WorkflowRun run, HistoryEvent failureEvent, int nextAttempt)
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
        Schedule(run);
        run.NotifyHistoryChanged();
    }

    /// <summary>
    /// The terminating paths (terminate, timeout) close a run whose workflow task may be in flight: the
    /// real server records the task as failed first so the history keeps a valid task sequence.
    /// </summary>
    public void FailStartedTaskForClose(WorkflowRun run)
    {
        if (run.Wft == WorkflowTaskState.Started)
        {
            run.WftTimeoutTimer?.Dispose();
            var failed = context.NewEvent(EventType.WorkflowTaskFailed);
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

    private sealed class WorkflowTaskDispatch(WorkflowTaskDispatcher dispatcher, WorkflowRun run, long scheduledEventId, int attempt, bool Sticky)
        : IDispatchable<PollWorkflowTaskQueueResponse>
    {
        public WorkflowRun Run => run;

        public long ScheduledEventId => scheduledEventId;

        public int Attempt => attempt;

        public DispatchKey Key { get; } = DispatchKey.From(run.Priority);

        public PollWorkflowTaskQueueResponse? TryStart(string identity) => dispatcher.TryStart(run, scheduledEventId, attempt, identity, Sticky);
    }
}
