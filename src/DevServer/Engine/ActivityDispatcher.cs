using System.Collections.Concurrent;
using AgentOrchestrator.DevServer.Engine.Errors;
using AgentOrchestrator.DevServer.Engine.State;
using AgentOrchestrator.DevServer.Matching;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Command.V1;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Sdk.V1;
using Temporalio.Api.WorkflowService.V1;
using static AgentOrchestrator.DevServer.Engine.RetryPolicies;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// Activities: scheduling with normalized timeouts, matching attempts to polls, heartbeats, completion,
/// retries (which write nothing to history), timeouts and cancellation. Owns the activity task queues.
/// </summary>
internal sealed class ActivityDispatcher(EngineContext context, ExecutionRegistry registry, WorkflowTaskDispatcher workflowTasks)
{
    /// <summary>How early a timer may fire against the wall clock (timers and UtcNow use different clocks).</summary>
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<(string Namespace, string Queue), TaskMatcher<PollActivityTaskQueueResponse>> _queues = new();

    private TaskMatcher<PollActivityTaskQueueResponse> Queue(string ns, string taskQueue) =>
        _queues.GetOrAdd((ns, taskQueue), static _ => new TaskMatcher<PollActivityTaskQueueResponse>());

    public void Schedule(WorkflowRun run, ScheduleActivityTaskCommandAttributes command, long completedEventId, UserMetadata? userMetadata)
    {
        var now = context.Now;
        var runTimeout = run.StartAttributes.WorkflowRunTimeout?.ToTimeSpan() ?? TimeSpan.Zero;
        var scheduleToClose = NonNegative(command.ScheduleToCloseTimeout);
        var scheduleToStart = NonNegative(command.ScheduleToStartTimeout);
        var startToClose = NonNegative(command.StartToCloseTimeout);
        var heartbeat = NonNegative(command.HeartbeatTimeout);
        if (scheduleToClose > TimeSpan.Zero)
        {
            scheduleToStart = scheduleToStart == TimeSpan.Zero ? scheduleToClose : Min(scheduleToStart, scheduleToClose);
            startToClose = startToClose == TimeSpan.Zero ? scheduleToClose : Min(startToClose, scheduleToClose);
        }
        else
        {
            scheduleToClose = runTimeout;
            if (scheduleToStart == TimeSpan.Zero)
            {
                scheduleToStart = runTimeout;
            }
        }
        if (runTimeout > TimeSpan.Zero)
        {
            scheduleToClose = Min(scheduleToClose == TimeSpan.Zero ? runTimeout : scheduleToClose, runTimeout);
            scheduleToStart = Min(scheduleToStart == TimeSpan.Zero ? runTimeout : scheduleToStart, runTimeout);
            startToClose = Min(startToClose, runTimeout);
        }
        if (heartbeat > startToClose)
        {
            heartbeat = startToClose;
        }
        var taskQueue = string.IsNullOrEmpty(command.TaskQueue?.Name) ? run.TaskQueue : command.TaskQueue.Name;
        var scheduled = context.NewEvent(EventType.ActivityTaskScheduled);
        scheduled.UserMetadata = userMetadata;
        scheduled.ActivityTaskScheduledEventAttributes = new ActivityTaskScheduledEventAttributes
        {
            ActivityId = command.ActivityId,
            ActivityType = command.ActivityType,
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = taskQueue, Kind = TaskQueueKind.Normal },
            Header = command.Header,
            Input = command.Input,
            ScheduleToCloseTimeout = Duration.FromTimeSpan(scheduleToClose),
            ScheduleToStartTimeout = Duration.FromTimeSpan(scheduleToStart),
            StartToCloseTimeout = Duration.FromTimeSpan(startToClose),
            HeartbeatTimeout = Duration.FromTimeSpan(heartbeat),
            RetryPolicy = WithDefaults(command.RetryPolicy),
            WorkflowTaskCompletedEventId = completedEventId,
            Priority = DispatchKey.Merge(command.Priority, run.Priority),
        };
        run.Append(scheduled);
        var activity = new ActivityState
        {
            ScheduledEventId = scheduled.EventId,
            Attributes = scheduled.ActivityTaskScheduledEventAttributes,
            FirstScheduledTime = now.UtcDateTime,
            TaskQueue = taskQueue,
            Expiration = scheduleToClose > TimeSpan.Zero ? (now + scheduleToClose).UtcDateTime : null,
        };
        run.Activities.Add(activity.ScheduledEventId, activity);
        ArmScheduleToClose(run, activity);
        // Only an explicit schedule-to-start timeout ends a queued attempt; a normalized one equals schedule-to-close.
        QueueAttempt(run, activity, NonNegative(command.ScheduleToStartTimeout) > TimeSpan.Zero ? scheduleToStart : TimeSpan.Zero);
    }

    private void QueueAttempt(WorkflowRun run, ActivityState activity, TimeSpan scheduleToStart)
    {
        if (activity.Paused)
        {
            // Held until UnpauseActivity queues it.
            activity.Phase = ActivityPhase.BackingOff;
            return;
        }
        activity.Phase = ActivityPhase.Queued;
        activity.CurrentAttemptScheduledTime = context.Now.UtcDateTime;
        activity.AttemptScheduleToStart = scheduleToStart;
        ArmQueued(run, activity);
        Enqueue(run, activity);
    }

    private void Enqueue(WorkflowRun run, ActivityState activity) =>
        Queue(run.NamespaceName, activity.TaskQueue).Add(new ActivityTaskDispatch(this, run, activity.ScheduledEventId, activity.Attempt,
            DispatchKey.From(activity.Attributes.Priority)));

    /// <summary>
    /// Re-arms a pending activity of a run loaded from storage: its timeouts count from the times recorded, and a
    /// queued attempt goes back on its queue. A started attempt keeps its token: its worker may still complete it.
    /// </summary>
    public void Resume(WorkflowRun run, ActivityState activity)
    {
        ArmScheduleToClose(run, activity);
        switch (activity.Phase)
        {
            case ActivityPhase.Queued:
                ArmQueued(run, activity);
                Enqueue(run, activity);
                break;
            case ActivityPhase.Started when context.Options.WorkersInProcess:
                // Its worker died with the server: the attempt is over, as a missed heartbeat (or start-to-close) would say.
                var timeoutType = activity.Attributes.HeartbeatTimeout?.ToTimeSpan() > TimeSpan.Zero ? TimeoutType.Heartbeat : TimeoutType.StartToClose;
                var attempt = activity.Attempt;
                activity.AttemptTimers.Add(context.StartTimer(TimeSpan.Zero,
                    () => registry.WithLockedRun(run, r => TimeOut(r, activity.ScheduledEventId, attempt, timeoutType, anyPhase: false))));
                break;
            case ActivityPhase.Started:
                ArmStarted(run, activity);
                break;
            case ActivityPhase.BackingOff when activity.Paused:
                break; // held until UnpauseActivity
            case ActivityPhase.BackingOff:
                ArmBackoff(run, activity);
                break;
        }
    }

    private void ArmScheduleToClose(WorkflowRun run, ActivityState activity)
    {
        if (activity.Expiration is { } expiration)
        {
            activity.ScheduleToCloseTimer = context.StartTimerAt(expiration,
                () => registry.WithLockedRun(run, r => TimeOut(r, activity.ScheduledEventId, activity.Attempt, TimeoutType.ScheduleToClose, anyPhase: true)));
        }
    }

    private void ArmQueued(WorkflowRun run, ActivityState activity)
    {
        var attempt = activity.Attempt;
        if (activity.AttemptScheduleToStart > TimeSpan.Zero)
        {
            activity.AttemptTimers.Add(context.StartTimerAt(activity.CurrentAttemptScheduledTime + activity.AttemptScheduleToStart,
                () => registry.WithLockedRun(run, r => TimeOut(r, activity.ScheduledEventId, attempt, TimeoutType.ScheduleToStart, anyPhase: false))));
        }
    }

    /// <summary>Start-to-close from the attempt's start, heartbeat from its last heartbeat (or start).</summary>
    private void ArmStarted(WorkflowRun run, ActivityState activity)
    {
        var attempt = activity.Attempt;
        var startToClose = activity.Attributes.StartToCloseTimeout?.ToTimeSpan() ?? TimeSpan.Zero;
        if (startToClose > TimeSpan.Zero)
        {
            activity.AttemptTimers.Add(context.StartTimerAt(activity.StartedTime + startToClose,
                () => registry.WithLockedRun(run, r => TimeOut(r, activity.ScheduledEventId, attempt, TimeoutType.StartToClose, anyPhase: false))));
        }
        var heartbeat = activity.Attributes.HeartbeatTimeout?.ToTimeSpan() ?? TimeSpan.Zero;
        if (heartbeat > TimeSpan.Zero)
        {
            activity.AttemptTimers.Add(context.StartTimerAt((activity.LastHeartbeatTime ?? activity.StartedTime) + heartbeat,
                () => registry.WithLockedRun(run, r => TimeOut(r, activity.ScheduledEventId, attempt, TimeoutType.Heartbeat, anyPhase: false))));
        }
    }

    private void ArmBackoff(WorkflowRun run, ActivityState activity)
    {
        var attempt = activity.Attempt;
        activity.AttemptTimers.Add(context.StartTimerAt(activity.RetryTime, () => registry.WithLockedRun(run, r =>
        {
            if (r.IsOpen && r.Activities.TryGetValue(activity.ScheduledEventId, out var current) && ReferenceEquals(current, activity) &&
                activity.Phase == ActivityPhase.BackingOff && activity.Attempt == attempt)
            {
                activity.AttemptTimers.Clear();
                var scheduleToStart = NonNegative(activity.Attributes.ScheduleToStartTimeout);
                QueueAttempt(r, activity, scheduleToStart < NonNegative(activity.Attributes.ScheduleToCloseTimeout) ? scheduleToStart : TimeSpan.Zero);
            }
        })));
    }

    public async Task<PollActivityTaskQueueResponse> PollAsync(PollActivityTaskQueueRequest request, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.TaskQueue?.Name))
        {
            throw new InvalidRequestException("TaskQueue is not set on request.");
        }
        var queue = Queue(registry.GetNamespace(request.Namespace).Name, request.TaskQueue.Name);
        var response = await queue.PollAsync(request.Identity ?? string.Empty, maxWait, () => context.Metrics.PollWaited("activity"), cancellationToken);
        if (response is null)
        {
            context.Metrics.PollTimedOut("activity");
            return new PollActivityTaskQueueResponse();
        }
        context.Metrics.TaskDispatched("activity");
        return response;
    }

    private PollActivityTaskQueueResponse? TryStart(WorkflowRun run, long scheduledEventId, int attempt, string identity) =>
        registry.WithLockedRun(run, run =>
        {
            if (!run.IsOpen || !run.Activities.TryGetValue(scheduledEventId, out var activity) ||
                activity.Phase != ActivityPhase.Queued || activity.Attempt != attempt || activity.Paused)
            {
                return null;
            }
            var now = context.Now;
            activity.CancelAttemptTimers();
            activity.Phase = ActivityPhase.Started;
            activity.StartedTime = now.UtcDateTime;
            activity.LastHeartbeatTime = null;
            activity.StartedIdentity = identity;
            activity.StartedRequestId = Guid.NewGuid().ToString();
            var attributes = activity.Attributes;
            ArmStarted(run, activity);
            return new PollActivityTaskQueueResponse
            {
                TaskToken = new TaskToken(TaskToken.ActivityTask, run.NamespaceName, run.WorkflowId, run.RunId, scheduledEventId, attempt).ToByteString(),
                WorkflowNamespace = run.NamespaceName,
                WorkflowType = run.StartAttributes.WorkflowType.Clone(),
                WorkflowExecution = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId },
                ActivityType = attributes.ActivityType,
                ActivityId = attributes.ActivityId,
                Header = attributes.Header,
                Input = attributes.Input,
                HeartbeatDetails = activity.HeartbeatDetails,
                ScheduledTime = Timestamp.FromDateTime(activity.FirstScheduledTime),
                CurrentAttemptScheduledTime = Timestamp.FromDateTime(activity.CurrentAttemptScheduledTime),
                StartedTime = Timestamp.FromDateTime(activity.StartedTime),
                Attempt = attempt,
                ScheduleToCloseTimeout = attributes.ScheduleToCloseTimeout,
                StartToCloseTimeout = attributes.StartToCloseTimeout,
                HeartbeatTimeout = attributes.HeartbeatTimeout,
                RetryPolicy = attributes.RetryPolicy,
                Priority = attributes.Priority,
            };
        });

    /// <summary>Runs <paramref name="action"/> on the started attempt a task token names, or throws NOT_FOUND (the SDK then drops the attempt).</summary>
    private T WithStarted<T>(ByteString taskToken, Func<WorkflowRun, ActivityState, T> action)
    {
        var token = TaskToken.Parse(taskToken, TaskToken.ActivityTask);
        return registry.WithTaskRun(token, run =>
        {
            if (!run.IsOpen)
            {
                throw NotFoundException.WorkflowCompleted();
            }
            if (!run.Activities.TryGetValue(token.ScheduledEventId, out var activity) || activity.Phase != ActivityPhase.Started || activity.Attempt != token.Attempt)
            {
                throw new NotFoundException("activity task not found.");
            }
            return action(run, activity);
        });
    }

    public RecordActivityTaskHeartbeatResponse Heartbeat(RecordActivityTaskHeartbeatRequest request) =>
        WithStarted(request.TaskToken, (run, activity) =>
        {
            activity.HeartbeatDetails = request.Details;
            activity.LastHeartbeatTime = context.Now.UtcDateTime;
            // Reset only the heartbeat timer: start-to-close keeps counting from the attempt's start.
            activity.CancelAttemptTimers();
            ArmStarted(run, activity);
            return new RecordActivityTaskHeartbeatResponse
            {
                CancelRequested = activity.CancelRequested,
                ActivityPaused = activity.Paused,
                ActivityReset = activity.ResetRequested,
            };
        });

    public RespondActivityTaskCompletedResponse Complete(RespondActivityTaskCompletedRequest request) =>
        WithStarted(request.TaskToken, (run, activity) =>
        {
            var completed = context.NewEvent(EventType.ActivityTaskCompleted);
            completed.ActivityTaskCompletedEventAttributes = new ActivityTaskCompletedEventAttributes
            {
                Result = request.Result,
                ScheduledEventId = activity.ScheduledEventId,
                Identity = request.Identity ?? string.Empty,
            };
            Close(run, activity, completed, started: true);
            return new RespondActivityTaskCompletedResponse();
        });

    public RespondActivityTaskFailedResponse Fail(RespondActivityTaskFailedRequest request) =>
        WithStarted(request.TaskToken, (run, activity) =>
        {
            if (request.LastHeartbeatDetails is { Payloads_.Count: > 0 })
            {
                activity.HeartbeatDetails = request.LastHeartbeatDetails;
            }
            var failure = request.Failure ?? new Failure { Message = "activity failed" };
            if (activity.Paused || activity.ResetRequested)
            {
                // The attempt ended because it was paused or reset: not a failure that counts against the retry policy.
                Interrupted(run, activity, failure);
                return new RespondActivityTaskFailedResponse();
            }
            var (retry, delay, retryState) = DecideActivityRetry(activity, failure, context.Now.UtcDateTime);
            if (retry)
            {
                ScheduleRetry(run, activity, failure, delay);
                return new RespondActivityTaskFailedResponse();
            }
            var failed = context.NewEvent(EventType.ActivityTaskFailed);
            failed.ActivityTaskFailedEventAttributes = new ActivityTaskFailedEventAttributes
            {
                Failure = failure,
                ScheduledEventId = activity.ScheduledEventId,
                Identity = request.Identity ?? string.Empty,
                RetryState = retryState,
            };
            Close(run, activity, failed, started: true);
            return new RespondActivityTaskFailedResponse();
        });

    public RespondActivityTaskCanceledResponse Canceled(RespondActivityTaskCanceledRequest request) =>
        WithStarted(request.TaskToken, (run, activity) =>
        {
            if (!activity.CancelRequested && (activity.Paused || activity.ResetRequested))
            {
                Interrupted(run, activity, new Failure { Message = activity.Paused ? "activity paused" : "activity reset", CanceledFailureInfo = new() });
                return new RespondActivityTaskCanceledResponse();
            }
            if (!activity.CancelRequested)
            {
                // The SDK reports its own local timeouts this way; only a requested cancellation may close the activity.
                throw new InvalidRequestException("unable to mark activity as canceled without activity being request canceled first");
            }
            var canceled = context.NewEvent(EventType.ActivityTaskCanceled);
            canceled.ActivityTaskCanceledEventAttributes = new ActivityTaskCanceledEventAttributes
            {
                Details = request.Details,
                LatestCancelRequestedEventId = activity.CancelRequestedEventId,
                ScheduledEventId = activity.ScheduledEventId,
                Identity = request.Identity ?? string.Empty,
            };
            Close(run, activity, canceled, started: true);
            return new RespondActivityTaskCanceledResponse();
        });

    /// <summary>
    /// A paused or reset attempt ended: a reset starts again at attempt 1 at once; a pause waits for UnpauseActivity
    /// with the attempt counted. Nothing is written to history.
    /// </summary>
    private void Interrupted(WorkflowRun run, ActivityState activity, Failure failure)
    {
        activity.CancelAttemptTimers();
        activity.LastFailure = failure;
        activity.Phase = ActivityPhase.BackingOff;
        if (activity.ResetRequested)
        {
            activity.ResetRequested = false;
            activity.Attempt = 1;
        }
        else
        {
            activity.Attempt++;
        }
        QueueAttempt(run, activity, TimeSpan.Zero);
    }

    public PauseActivityResponse Pause(PauseActivityRequest request)
    {
        ForActivities(request.Namespace, request.Execution, request.Id, request.Type, (run, activity) =>
        {
            activity.Paused = true;
            if (activity.Phase is ActivityPhase.BackingOff or ActivityPhase.Queued)
            {
                // Held until UnpauseActivity queues it again: the retry timer would only find it paused, and a queued
                // attempt leaves its queue (its dispatch finds it no longer queued) so that Unpause can queue it afresh.
                activity.CancelAttemptTimers();
                activity.Phase = ActivityPhase.BackingOff;
            }
        });
        return new PauseActivityResponse();
    }

    public UnpauseActivityResponse Unpause(UnpauseActivityRequest request)
    {
        ForActivities(request.Namespace, request.Execution, request.Id, request.Type, (run, activity) =>
        {
            if (!activity.Paused)
            {
                return;
            }
            activity.Paused = false;
            if (request.ResetAttempts && activity.Phase != ActivityPhase.Started)
            {
                activity.Attempt = 1;
            }
            if (request.ResetHeartbeat)
            {
                activity.HeartbeatDetails = null;
            }
            if (activity.Phase == ActivityPhase.BackingOff)
            {
                activity.CancelAttemptTimers();
                QueueAttempt(run, activity, TimeSpan.Zero);
            }
        });
        return new UnpauseActivityResponse();
    }

    public ResetActivityResponse Reset(ResetActivityRequest request)
    {
        ForActivities(request.Namespace, request.Execution, request.Id, request.Type, (run, activity) =>
        {
            if (request.ResetHeartbeat)
            {
                activity.HeartbeatDetails = null;
            }
            if (!request.KeepPaused)
            {
                activity.Paused = false;
            }
            if (activity.Phase == ActivityPhase.Started)
            {
                activity.ResetRequested = true; // the running attempt hears it on its next heartbeat
                return;
            }
            activity.Attempt = 1;
            activity.CancelAttemptTimers();
            QueueAttempt(run, activity, TimeSpan.Zero);
        });
        return new ResetActivityResponse();
    }

    /// <summary>The run's pending activities with the given activity id, or of the given type; none is NOT_FOUND.</summary>
    private void ForActivities(string ns, WorkflowExecution? execution, string id, string type, Action<WorkflowRun, ActivityState> action)
    {
        if (string.IsNullOrEmpty(id) && string.IsNullOrEmpty(type))
        {
            throw new InvalidRequestException("either the activity id or the activity type must be set");
        }
        registry.WithRun(ns, execution, run =>
        {
            var matched = 0;
            foreach (var activity in run.Activities.Values)
            {
                if ((!string.IsNullOrEmpty(id) && activity.Attributes.ActivityId == id) ||
                    (!string.IsNullOrEmpty(type) && activity.Attributes.ActivityType.Name == type))
                {
                    action(run, activity);
                    matched++;
                }
            }
            return matched > 0 ? matched : throw new NotFoundException($"no pending activity with {(string.IsNullOrEmpty(id) ? $"type {type}" : $"id {id}")}");
        });
    }

    /// <summary>A retried attempt writes nothing to history: the next attempt is queued after the backoff.</summary>
    private void ScheduleRetry(WorkflowRun run, ActivityState activity, Failure failure, TimeSpan delay)
    {
        activity.CancelAttemptTimers();
        activity.LastFailure = failure;
        activity.Phase = ActivityPhase.BackingOff;
        activity.Attempt++;
        activity.RetryTime = context.Now.UtcDateTime + delay;
        ArmBackoff(run, activity);
    }

    private void TimeOut(WorkflowRun run, long scheduledEventId, int attempt, TimeoutType timeoutType, bool anyPhase)
    {
        if (!run.IsOpen || !run.Activities.TryGetValue(scheduledEventId, out var activity) || (!anyPhase && activity.Attempt != attempt))
        {
            return;
        }
        var expectedPhase = timeoutType == TimeoutType.ScheduleToStart ? ActivityPhase.Queued : ActivityPhase.Started;
        if (!anyPhase && activity.Phase != expectedPhase)
        {
            return;
        }
        // An attempt timeout due at (or just before) the overall deadline is that deadline: timers fire on the thread
        // pool in either order, a little early against the wall clock, and the outcome must not depend on which runs first.
        if (timeoutType is TimeoutType.StartToClose or TimeoutType.Heartbeat && activity.Expiration is { } expiration &&
            context.Now.UtcDateTime + TimerSlack >= expiration)
        {
            timeoutType = TimeoutType.ScheduleToClose;
        }
        var failure = TimeoutFailure(timeoutType, activity);
        if (timeoutType is TimeoutType.StartToClose or TimeoutType.Heartbeat)
        {
            if (activity.Paused || activity.ResetRequested)
            {
                // An attempt told to stop that ends by timing out (its worker died with the server, say) is interrupted
                // as if it had reported the cancellation: not counted, and a requested reset is not lost.
                Interrupted(run, activity, failure);
                return;
            }
            var (retry, delay, retryState) = DecideActivityRetry(activity, failure, context.Now.UtcDateTime);
            if (retry)
            {
                ScheduleRetry(run, activity, failure, delay);
                return;
            }
            if (retryState == RetryState.Timeout)
            {
                // Out of time for another attempt: the activity ends as a schedule-to-close timeout caused by this one.
                var closing = TimeoutFailure(TimeoutType.ScheduleToClose, activity);
                closing.Cause = failure;
                failure = closing;
            }
            WriteTimeout(run, activity, failure, retryState, started: true);
            return;
        }
        // Schedule-to-start/close timeouts are never retried; a pending cancel request takes precedence, as in DecideActivityRetry.
        WriteTimeout(run, activity, failure, activity.CancelRequested ? RetryState.CancelRequested : RetryState.NonRetryableFailure,
            started: activity.Phase == ActivityPhase.Started);
    }

    private static Failure TimeoutFailure(TimeoutType timeoutType, ActivityState activity) => new()
    {
        Message = $"activity {TimeoutName(timeoutType)} timeout",
        Source = "Server",
        TimeoutFailureInfo = new TimeoutFailureInfo { TimeoutType = timeoutType, LastHeartbeatDetails = activity.HeartbeatDetails },
        Cause = activity.LastFailure,
    };

    private static string TimeoutName(TimeoutType timeoutType) => timeoutType switch
    {
        TimeoutType.StartToClose => "StartToClose",
        TimeoutType.ScheduleToStart => "ScheduleToStart",
        TimeoutType.ScheduleToClose => "ScheduleToClose",
        TimeoutType.Heartbeat => "Heartbeat",
        _ => "Unspecified",
    };

    private void WriteTimeout(WorkflowRun run, ActivityState activity, Failure failure, RetryState retryState, bool started)
    {
        var timedOut = context.NewEvent(EventType.ActivityTaskTimedOut);
        timedOut.ActivityTaskTimedOutEventAttributes = new ActivityTaskTimedOutEventAttributes
        {
            Failure = failure,
            ScheduledEventId = activity.ScheduledEventId,
            RetryState = retryState,
        };
        Close(run, activity, timedOut, started);
    }

    /// <summary>
    /// Writes the activity's Started event (lazily, with the final attempt and its last failure) and its
    /// close event, and forgets the activity.
    /// </summary>
    private void Close(WorkflowRun run, ActivityState activity, HistoryEvent closeEvent, bool started)
    {
        activity.CancelAttemptTimers();
        activity.ScheduleToCloseTimer?.Dispose();
        run.Activities.Remove(activity.ScheduledEventId);
        if (started)
        {
            var startedEvent = context.NewEvent(EventType.ActivityTaskStarted);
            startedEvent.EventTime = Timestamp.FromDateTime(activity.StartedTime);
            startedEvent.ActivityTaskStartedEventAttributes = new ActivityTaskStartedEventAttributes
            {
                ScheduledEventId = activity.ScheduledEventId,
                Identity = activity.StartedIdentity ?? string.Empty,
                RequestId = activity.StartedRequestId,
                Attempt = activity.Attempt,
                LastFailure = activity.LastFailure,
            };
            workflowTasks.AddExternalEvent(run, startedEvent, schedulesWorkflowTask: false);
            // The close event names its Started event; buffered events get their ids only when flushed.
            ActivityEvents.SetStartedEventId(closeEvent, startedEvent.EventId == 0 ? ActivityEvents.PendingStartedEventId : startedEvent.EventId);
        }
        workflowTasks.AddExternalEvent(run, closeEvent);
    }

    /// <summary>
    /// RequestCancelActivityTask: records the request; an activity that has not started is cancelled at
    /// once (the returned event follows the command batch), a started one learns of it on its next heartbeat.
    /// </summary>
    public HistoryEvent? RequestCancel(WorkflowRun run, long scheduledEventId, long completedEventId)
    {
        var requested = context.NewEvent(EventType.ActivityTaskCancelRequested);
        requested.ActivityTaskCancelRequestedEventAttributes = new ActivityTaskCancelRequestedEventAttributes
        {
            ScheduledEventId = scheduledEventId,
            WorkflowTaskCompletedEventId = completedEventId,
        };
        run.Append(requested);
        if (!run.Activities.TryGetValue(scheduledEventId, out var activity))
        {
            // Already closed (its close event may still be in the buffer): nothing more to do.
            return null;
        }
        if (activity.Phase == ActivityPhase.Started)
        {
            activity.CancelRequested = true;
            activity.CancelRequestedEventId = requested.EventId;
            return null;
        }
        activity.CancelAttemptTimers();
        activity.ScheduleToCloseTimer?.Dispose();
        run.Activities.Remove(scheduledEventId);
        var canceled = context.NewEvent(EventType.ActivityTaskCanceled);
        canceled.ActivityTaskCanceledEventAttributes = new ActivityTaskCanceledEventAttributes
        {
            ScheduledEventId = scheduledEventId,
            LatestCancelRequestedEventId = requested.EventId,
        };
        return canceled;
    }

    /// <summary>A closing run's activities stop: their timers never fire and late completions find nothing.</summary>
    public static void StopAll(WorkflowRun run)
    {
        foreach (var activity in run.Activities.Values)
        {
            activity.CancelAttemptTimers();
            activity.ScheduleToCloseTimer?.Dispose();
        }
        run.Activities.Clear();
    }

    private sealed class ActivityTaskDispatch(ActivityDispatcher dispatcher, WorkflowRun run, long scheduledEventId, int attempt, DispatchKey key)
        : IDispatchable<PollActivityTaskQueueResponse>
    {
        public DispatchKey Key { get; } = key;

        public PollActivityTaskQueueResponse? TryStart(string identity) => dispatcher.TryStart(run, scheduledEventId, attempt, identity);
    }
}
