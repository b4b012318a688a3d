using AgentOrchestrator.DevServer.Grpc;
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

namespace AgentOrchestrator.DevServer.Engine;

internal sealed partial class WorkflowEngine
{
    private static readonly TimeSpan DefaultInitialInterval = TimeSpan.FromSeconds(1);

    /// <summary>How early a timer may fire against the wall clock (timers and UtcNow use different clocks).</summary>
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(100);

    private void ScheduleActivity(WorkflowRun run, ScheduleActivityTaskCommandAttributes command, long completedEventId, UserMetadata? userMetadata)
    {
        var now = Now;
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
        var scheduled = NewEvent(EventType.ActivityTaskScheduled);
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
            RetryPolicy = WithRetryDefaults(command.RetryPolicy),
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
        if (scheduleToClose > TimeSpan.Zero)
        {
            activity.ScheduleToCloseTimer = StartTimer(scheduleToClose,
                () => WithLockedRun(run, r => TimeOutActivity(r, activity.ScheduledEventId, activity.Attempt, TimeoutType.ScheduleToClose, anyPhase: true)));
        }
        // Only an explicit schedule-to-start timeout ends a queued attempt; a normalized one equals schedule-to-close.
        QueueActivityAttempt(run, activity, NonNegative(command.ScheduleToStartTimeout) > TimeSpan.Zero ? scheduleToStart : TimeSpan.Zero);
    }

    private static TimeSpan NonNegative(Duration? duration)
    {
        var value = duration?.ToTimeSpan() ?? TimeSpan.Zero;
        return value > TimeSpan.Zero ? value : TimeSpan.Zero;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static RetryPolicy WithRetryDefaults(RetryPolicy? policy)
    {
        var filled = policy?.Clone() ?? new RetryPolicy();
        var initial = NonNegative(filled.InitialInterval);
        if (initial == TimeSpan.Zero)
        {
            initial = DefaultInitialInterval;
            filled.InitialInterval = Duration.FromTimeSpan(initial);
        }
        if (filled.BackoffCoefficient < 1)
        {
            filled.BackoffCoefficient = 2.0;
        }
        if (NonNegative(filled.MaximumInterval) == TimeSpan.Zero)
        {
            filled.MaximumInterval = Duration.FromTimeSpan(initial * 100);
        }
        return filled;
    }

    private void QueueActivityAttempt(WorkflowRun run, ActivityState activity, TimeSpan scheduleToStart)
    {
        activity.Phase = ActivityPhase.Queued;
        activity.CurrentAttemptScheduledTime = Now.UtcDateTime;
        var attempt = activity.Attempt;
        if (scheduleToStart > TimeSpan.Zero)
        {
            activity.AttemptTimers.Add(StartTimer(scheduleToStart,
                () => WithLockedRun(run, r => TimeOutActivity(r, activity.ScheduledEventId, attempt, TimeoutType.ScheduleToStart, anyPhase: false))));
        }
        run.Chain.Namespace.ActivityQueue(activity.TaskQueue).Add(new ActivityTaskDispatch(this, run, activity.ScheduledEventId, attempt,
            DispatchKey.From(activity.Attributes.Priority)));
    }

    public async Task<PollActivityTaskQueueResponse> PollActivityTaskAsync(PollActivityTaskQueueRequest request, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.TaskQueue?.Name))
        {
            throw GrpcErrors.InvalidArgument("TaskQueue is not set on request.");
        }
        var queue = GetNamespace(request.Namespace).ActivityQueue(request.TaskQueue.Name);
        var response = await queue.PollAsync(request.Identity ?? string.Empty, maxWait, () => _metrics.PollWaited("activity"), cancellationToken);
        if (response is null)
        {
            _metrics.PollTimedOut("activity");
            return new PollActivityTaskQueueResponse();
        }
        _metrics.TaskDispatched("activity");
        return response;
    }

    private PollActivityTaskQueueResponse? TryStartActivity(WorkflowRun run, long scheduledEventId, int attempt, string identity)
    {
        lock (run.Chain)
        {
            if (!run.IsOpen || !run.Activities.TryGetValue(scheduledEventId, out var activity) ||
                activity.Phase != ActivityPhase.Queued || activity.Attempt != attempt)
            {
                return null;
            }
            var now = Now;
            activity.CancelAttemptTimers();
            activity.Phase = ActivityPhase.Started;
            activity.StartedTime = now.UtcDateTime;
            activity.StartedIdentity = identity;
            activity.StartedRequestId = Guid.NewGuid().ToString();
            var attributes = activity.Attributes;
            var startToClose = attributes.StartToCloseTimeout.ToTimeSpan();
            if (startToClose > TimeSpan.Zero)
            {
                activity.AttemptTimers.Add(StartTimer(startToClose,
                    () => WithLockedRun(run, r => TimeOutActivity(r, scheduledEventId, attempt, TimeoutType.StartToClose, anyPhase: false))));
            }
            ArmHeartbeatTimer(run, activity);
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
        }
    }

    private void ArmHeartbeatTimer(WorkflowRun run, ActivityState activity)
    {
        var heartbeat = activity.Attributes.HeartbeatTimeout?.ToTimeSpan() ?? TimeSpan.Zero;
        if (heartbeat <= TimeSpan.Zero)
        {
            return;
        }
        var attempt = activity.Attempt;
        var heartbeatTimer = StartTimer(heartbeat,
            () => WithLockedRun(run, r => TimeOutActivity(r, activity.ScheduledEventId, attempt, TimeoutType.Heartbeat, anyPhase: false)));
        activity.AttemptTimers.Add(heartbeatTimer);
    }

    /// <summary>Finds the started attempt a task token names, or throws NOT_FOUND (the SDK then drops the attempt).</summary>
    private (WorkflowRun Run, ActivityState Activity) StartedActivity(TaskToken token)
    {
        var run = RunForTask(token, out _);
        if (!run.IsOpen)
        {
            throw GrpcErrors.WorkflowCompleted();
        }
        if (!run.Activities.TryGetValue(token.ScheduledEventId, out var activity) || activity.Phase != ActivityPhase.Started || activity.Attempt != token.Attempt)
        {
            throw GrpcErrors.NotFound("activity task not found.");
        }
        return (run, activity);
    }

    private T WithStartedActivity<T>(ByteString taskToken, Func<WorkflowRun, ActivityState, T> action)
    {
        var token = TaskToken.Parse(taskToken, TaskToken.ActivityTask);
        var chain = FindChain(token.Namespace, token.WorkflowId) ?? throw GrpcErrors.NotFound("workflow execution not found");
        lock (chain)
        {
            var (run, activity) = StartedActivity(token);
            return action(run, activity);
        }
    }

    public RecordActivityTaskHeartbeatResponse HeartbeatActivity(RecordActivityTaskHeartbeatRequest request) =>
        WithStartedActivity(request.TaskToken, (run, activity) =>
        {
            activity.HeartbeatDetails = request.Details;
            // Reset only the heartbeat timer: drop the attempt's timers and re-arm start-to-close's remainder.
            activity.CancelAttemptTimers();
            var startToClose = activity.Attributes.StartToCloseTimeout.ToTimeSpan();
            if (startToClose > TimeSpan.Zero)
            {
                var attempt = activity.Attempt;
                var remaining = activity.StartedTime + startToClose - Now.UtcDateTime;
                activity.AttemptTimers.Add(StartTimer(remaining,
                    () => WithLockedRun(run, r => TimeOutActivity(r, activity.ScheduledEventId, attempt, TimeoutType.StartToClose, anyPhase: false))));
            }
            ArmHeartbeatTimer(run, activity);
            return new RecordActivityTaskHeartbeatResponse { CancelRequested = activity.CancelRequested };
        });

    public RespondActivityTaskCompletedResponse CompleteActivity(RespondActivityTaskCompletedRequest request) =>
        WithStartedActivity(request.TaskToken, (run, activity) =>
        {
            var completed = NewEvent(EventType.ActivityTaskCompleted);
            completed.ActivityTaskCompletedEventAttributes = new ActivityTaskCompletedEventAttributes
            {
                Result = request.Result,
                ScheduledEventId = activity.ScheduledEventId,
                Identity = request.Identity ?? string.Empty,
            };
            CloseActivity(run, activity, completed, started: true);
            return new RespondActivityTaskCompletedResponse();
        });

    public RespondActivityTaskFailedResponse FailActivity(RespondActivityTaskFailedRequest request) =>
        WithStartedActivity(request.TaskToken, (run, activity) =>
        {
            if (request.LastHeartbeatDetails is { Payloads_.Count: > 0 })
            {
                activity.HeartbeatDetails = request.LastHeartbeatDetails;
            }
            var failure = request.Failure ?? new Failure { Message = "activity failed" };
            var (retry, delay, retryState) = DecideRetry(activity, failure);
            if (retry)
            {
                ScheduleActivityRetry(run, activity, failure, delay);
                return new RespondActivityTaskFailedResponse();
            }
            var failed = NewEvent(EventType.ActivityTaskFailed);
            failed.ActivityTaskFailedEventAttributes = new ActivityTaskFailedEventAttributes
            {
                Failure = failure,
                ScheduledEventId = activity.ScheduledEventId,
                Identity = request.Identity ?? string.Empty,
                RetryState = retryState,
            };
            CloseActivity(run, activity, failed, started: true);
            return new RespondActivityTaskFailedResponse();
        });

    public RespondActivityTaskCanceledResponse CancelActivity(RespondActivityTaskCanceledRequest request) =>
        WithStartedActivity(request.TaskToken, (run, activity) =>
        {
            if (!activity.CancelRequested)
            {
                // The SDK reports its own local timeouts this way; only a requested cancellation may close the activity.
                throw GrpcErrors.InvalidArgument("unable to mark activity as canceled without activity being request canceled first");
            }
            var canceled = NewEvent(EventType.ActivityTaskCanceled);
            canceled.ActivityTaskCanceledEventAttributes = new ActivityTaskCanceledEventAttributes
            {
                Details = request.Details,
                LatestCancelRequestedEventId = activity.CancelRequestedEventId,
                ScheduledEventId = activity.ScheduledEventId,
                Identity = request.Identity ?? string.Empty,
            };
            CloseActivity(run, activity, canceled, started: true);
            return new RespondActivityTaskCanceledResponse();
        });

    /// <summary>Decides whether a failed attempt is retried, after how long, or why not.</summary>
    private (bool Retry, TimeSpan Delay, RetryState State) DecideRetry(ActivityState activity, Failure failure)
    {
        var policy = activity.Attributes.RetryPolicy;
        // The workflow asked the activity to stop: another attempt would only run work it gave up on.
        if (activity.CancelRequested)
        {
            return (false, TimeSpan.Zero, RetryState.CancelRequested);
        }
        if (!IsRetryable(failure, policy))
        {
            return (false, TimeSpan.Zero, RetryState.NonRetryableFailure);
        }
        if (policy.MaximumAttempts > 0 && activity.Attempt >= policy.MaximumAttempts)
        {
            return (false, TimeSpan.Zero, RetryState.MaximumAttemptsReached);
        }
        var delay = failure.ApplicationFailureInfo?.NextRetryDelay is { } next && next.ToTimeSpan() > TimeSpan.Zero
            ? next.ToTimeSpan()
            : BackoffFor(policy, activity.Attempt);
        if (activity.Expiration is { } expiration && Now.UtcDateTime + delay >= expiration)
        {
            return (false, TimeSpan.Zero, RetryState.Timeout);
        }
        return (true, delay, RetryState.InProgress);
    }

    internal static TimeSpan BackoffFor(RetryPolicy policy, int attempt)
    {
        var initial = policy.InitialInterval.ToTimeSpan();
        var maximum = policy.MaximumInterval?.ToTimeSpan() ?? TimeSpan.Zero;
        var delayMs = initial.TotalMilliseconds * Math.Pow(policy.BackoffCoefficient, attempt - 1);
        var delay = double.IsFinite(delayMs) && delayMs < TimeSpan.MaxValue.TotalMilliseconds / 2 ? TimeSpan.FromMilliseconds(delayMs) : TimeSpan.MaxValue / 2;
        return maximum > TimeSpan.Zero && delay > maximum ? maximum : delay;
    }

    private static bool IsRetryable(Failure failure, RetryPolicy policy)
    {
        if (failure.ApplicationFailureInfo is { } application)
        {
            if (application.NonRetryable)
            {
                return false;
            }
            foreach (var type in policy.NonRetryableErrorTypes)
            {
                if (type == application.Type)
                {
                    return false;
                }
            }
            return true;
        }
        if (failure.TimeoutFailureInfo is { } timeout)
        {
            var name = timeout.TimeoutType switch
            {
                TimeoutType.StartToClose => "TemporalTimeout:StartToClose",
                TimeoutType.Heartbeat => "TemporalTimeout:Heartbeat",
                _ => null,
            };
            return name is not null && !policy.NonRetryableErrorTypes.Contains(name);
        }
        return failure.CanceledFailureInfo is null && failure.TerminatedFailureInfo is null;
    }

    /// <summary>A retried attempt writes nothing to history: the next attempt is queued after the backoff.</summary>
    private void ScheduleActivityRetry(WorkflowRun run, ActivityState activity, Failure failure, TimeSpan delay)
    {
        activity.CancelAttemptTimers();
        activity.LastFailure = failure;
        activity.Phase = ActivityPhase.BackingOff;
        activity.Attempt++;
        var attempt = activity.Attempt;
        activity.AttemptTimers.Add(StartTimer(delay, () => WithLockedRun(run, r =>
        {
            if (r.IsOpen && r.Activities.TryGetValue(activity.ScheduledEventId, out var current) && ReferenceEquals(current, activity) &&
                activity.Phase == ActivityPhase.BackingOff && activity.Attempt == attempt)
            {
                activity.AttemptTimers.Clear();
                var scheduleToStart = NonNegative(activity.Attributes.ScheduleToStartTimeout);
                QueueActivityAttempt(r, activity, scheduleToStart < NonNegative(activity.Attributes.ScheduleToCloseTimeout) ? scheduleToStart : TimeSpan.Zero);
            }
        })));
    }

    private void TimeOutActivity(WorkflowRun run, long scheduledEventId, int attempt, TimeoutType timeoutType, bool anyPhase)
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
            Now.UtcDateTime + TimerSlack >= expiration)
        {
            timeoutType = TimeoutType.ScheduleToClose;
        }
        var failure = TimeoutFailure(timeoutType, activity);
        if (timeoutType is TimeoutType.StartToClose or TimeoutType.Heartbeat)
        {
            var (retry, delay, retryState) = DecideRetry(activity, failure);
            if (retry)
            {
                ScheduleActivityRetry(run, activity, failure, delay);
                return;
            }
            if (retryState == RetryState.Timeout)
            {
                // Out of time for another attempt: the activity ends as a schedule-to-close timeout caused by this one.
                var closing = TimeoutFailure(TimeoutType.ScheduleToClose, activity);
                closing.Cause = failure;
                failure = closing;
            }
            WriteActivityTimeout(run, activity, failure, retryState, started: true);
            return;
        }
        // Schedule-to-start/close timeouts are never retried; a pending cancel request takes precedence, as in DecideRetry.
        WriteActivityTimeout(run, activity, failure, activity.CancelRequested ? RetryState.CancelRequested : RetryState.NonRetryableFailure,
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

    private void WriteActivityTimeout(WorkflowRun run, ActivityState activity, Failure failure, RetryState retryState, bool started)
    {
        var timedOut = NewEvent(EventType.ActivityTaskTimedOut);
        timedOut.ActivityTaskTimedOutEventAttributes = new ActivityTaskTimedOutEventAttributes
        {
            Failure = failure,
            ScheduledEventId = activity.ScheduledEventId,
            RetryState = retryState,
        };
        CloseActivity(run, activity, timedOut, started);
    }

    /// <summary>
    /// Writes the activity's Started event (lazily, with the final attempt and its last failure) and its
    /// close event, and forgets the activity.
    /// </summary>
    private void CloseActivity(WorkflowRun run, ActivityState activity, HistoryEvent closeEvent, bool started)
    {
        activity.CancelAttemptTimers();
        activity.ScheduleToCloseTimer?.Dispose();
        run.Activities.Remove(activity.ScheduledEventId);
        if (started)
        {
            var startedEvent = NewEvent(EventType.ActivityTaskStarted);
            startedEvent.EventTime = Timestamp.FromDateTime(activity.StartedTime);
            startedEvent.ActivityTaskStartedEventAttributes = new ActivityTaskStartedEventAttributes
            {
                ScheduledEventId = activity.ScheduledEventId,
                Identity = activity.StartedIdentity ?? string.Empty,
                RequestId = activity.StartedRequestId,
                Attempt = activity.Attempt,
                LastFailure = activity.LastFailure,
            };
            AddExternalEvent(run, startedEvent, schedulesWorkflowTask: false);
            // The close event names its Started event; buffered events get their ids only when flushed.
            SetActivityStartedEventId(closeEvent, startedEvent.EventId == 0 ? PendingStartedEventId : startedEvent.EventId);
        }
        AddExternalEvent(run, closeEvent);
    }

    /// <summary>Placeholder for "the Started event just before me", resolved when the buffer is flushed.</summary>
    private const long PendingStartedEventId = -1;

    private static void SetActivityStartedEventId(HistoryEvent closeEvent, long startedEventId)
    {
        switch (closeEvent.EventType)
        {
            case EventType.ActivityTaskCompleted:
                closeEvent.ActivityTaskCompletedEventAttributes.StartedEventId = startedEventId;
                break;
            case EventType.ActivityTaskFailed:
                closeEvent.ActivityTaskFailedEventAttributes.StartedEventId = startedEventId;
                break;
            case EventType.ActivityTaskTimedOut:
                closeEvent.ActivityTaskTimedOutEventAttributes.StartedEventId = startedEventId;
                break;
            case EventType.ActivityTaskCanceled:
                closeEvent.ActivityTaskCanceledEventAttributes.StartedEventId = startedEventId;
                break;
        }
    }

    private static bool HasPendingStartedEventId(HistoryEvent historyEvent) => historyEvent.EventType switch
    {
        EventType.ActivityTaskCompleted => historyEvent.ActivityTaskCompletedEventAttributes.StartedEventId == PendingStartedEventId,
        EventType.ActivityTaskFailed => historyEvent.ActivityTaskFailedEventAttributes.StartedEventId == PendingStartedEventId,
        EventType.ActivityTaskTimedOut => historyEvent.ActivityTaskTimedOutEventAttributes.StartedEventId == PendingStartedEventId,
        EventType.ActivityTaskCanceled => historyEvent.ActivityTaskCanceledEventAttributes.StartedEventId == PendingStartedEventId,
        _ => false,
    };

    /// <summary>
    /// RequestCancelActivityTask: records the request; an activity that has not started is cancelled at
    /// once (the returned event follows the command batch), a started one learns of it on its next heartbeat.
    /// </summary>
    private HistoryEvent? RequestCancelActivity(WorkflowRun run, long scheduledEventId, long completedEventId)
    {
        var requested = NewEvent(EventType.ActivityTaskCancelRequested);
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
        var canceled = NewEvent(EventType.ActivityTaskCanceled);
        canceled.ActivityTaskCanceledEventAttributes = new ActivityTaskCanceledEventAttributes
        {
            ScheduledEventId = scheduledEventId,
            LatestCancelRequestedEventId = requested.EventId,
        };
        return canceled;
    }

    private sealed class ActivityTaskDispatch(WorkflowEngine engine, WorkflowRun run, long scheduledEventId, int attempt, DispatchKey key)
        : IDispatchable<PollActivityTaskQueueResponse>
    {
        public DispatchKey Key { get; } = key;

        public PollActivityTaskQueueResponse? TryStart(string identity) => engine.TryStartActivity(run, scheduledEventId, attempt, identity);
    }
}
