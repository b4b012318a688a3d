using AgentOrchestrator.DevServer.Calendars;
using AgentOrchestrator.DevServer.Engine.Errors;
using AgentOrchestrator.DevServer.Engine.State;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Command.V1;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Sdk.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// A run from start to close: starting (id reuse and conflict policies), run timeouts, cancel requests,
/// termination, the workflow's own closing commands (including retry and continue-as-new, which start the next
/// run of the chain) and what every close does to the run's pending work.
/// </summary>
internal sealed class RunLifecycle(EngineContext context, ExecutionRegistry registry, WorkflowTaskDispatcher workflowTasks, QueryDispatcher queries)
{
    private static readonly TimeSpan MaxWorkflowTaskTimeout = TimeSpan.FromSeconds(120);

    private readonly List<IRunCloseObserver> _closeObservers = [];

    internal readonly record struct StartOutcome(WorkflowRun Run, bool Started);

    public void AddCloseObserver(IRunCloseObserver observer) => _closeObservers.Add(observer);

    public StartWorkflowExecutionResponse StartWorkflow(StartWorkflowExecutionRequest request)
    {
        var spec = StartSpec.From(request.Namespace, request.WorkflowId, request.WorkflowType, request.TaskQueue,
            request.Input, request.WorkflowExecutionTimeout, request.WorkflowRunTimeout, request.WorkflowTaskTimeout,
            request.Identity, request.RequestId, request.WorkflowIdReusePolicy, request.WorkflowIdConflictPolicy,
            request.RetryPolicy, request.CronSchedule, request.Memo, request.SearchAttributes, request.Header,
            request.WorkflowStartDelay, request.Priority);
        // A start may carry a previous run's result or failure (the scheduler passes its last action's).
        spec.Attributes.LastCompletionResult = request.LastCompletionResult;
        spec.Attributes.ContinuedFailure = request.ContinuedFailure;
        var outcome = Start(spec, beforeFirstTask: request.UserMetadata is { } metadata ? run => SetUserMetadata(run, metadata) : null);
        return new StartWorkflowExecutionResponse
        {
            RunId = outcome.Run.RunId,
            Started = outcome.Started,
            Status = WorkflowExecutionStatus.Running,
        };
    }

    /// <summary>A start's summary and details live on the run's WorkflowExecutionStarted event (Describe reads them there).</summary>
    public static void SetUserMetadata(WorkflowRun run, UserMetadata metadata) => run.History[0].UserMetadata = metadata;

    public StartOutcome Start(StartSpec spec, Action<WorkflowRun>? beforeFirstTask) =>
        registry.WithChain(spec.Namespace, spec.Attributes.WorkflowId, chain => StartLocked(chain, spec, beforeFirstTask));

    /// <summary>Starts a run in a chain whose lock the caller holds, applying the id reuse and conflict policies.</summary>
    public StartOutcome StartLocked(WorkflowChain chain, StartSpec spec, Action<WorkflowRun>? beforeFirstTask)
    {
        var current = chain.Current;
        if (current is not null)
        {
            if (current.StartRequestId == spec.RequestId)
            {
                return new StartOutcome(current, true);
            }
            if (current.IsOpen)
            {
                switch (spec.ConflictPolicy)
                {
                    case WorkflowIdConflictPolicy.UseExisting:
                        return new StartOutcome(current, false);
                    case WorkflowIdConflictPolicy.TerminateExisting:
                        TerminateLocked(current, "TerminateIfRunning WorkflowIdReusePolicy", null, "history-service");
                        break;
                    default:
                        throw AlreadyStarted($"Workflow execution is already running. WorkflowId: {chain.WorkflowId}, RunId: {current.RunId}.", current);
                }
            }
            else
            {
                switch (spec.ReusePolicy)
                {
                    case WorkflowIdReusePolicy.RejectDuplicate:
                        throw AlreadyStarted($"Workflow execution already finished and WorkflowIdReusePolicy is REJECT_DUPLICATE. WorkflowId: {chain.WorkflowId}, RunId: {current.RunId}.", current);
                    case WorkflowIdReusePolicy.AllowDuplicateFailedOnly when current.Status is WorkflowExecutionStatus.Completed or WorkflowExecutionStatus.ContinuedAsNew:
                        throw AlreadyStarted($"Workflow execution already finished successfully. WorkflowId: {chain.WorkflowId}, RunId: {current.RunId}. Workflow Id reuse policy: allow duplicate workflow Id if last run failed.", current);
                }
            }
        }
        // A cron workflow's first run waits for the first cron time, like every later one.
        var delay = CronBackoff(spec.Attributes.CronSchedule) ?? spec.StartDelay;
        var run = CreateRun(chain, spec.Attributes, spec.RequestId, delay, beforeFirstTask);
        return new StartOutcome(run, true);
    }

    private static WorkflowAlreadyStartedException AlreadyStarted(string message, WorkflowRun current) =>
        new(message, current.StartRequestId, current.RunId);

    /// <summary>
    /// Creates a run in a chain (fresh start, continue-as-new, retry or child) and schedules its first
    /// workflow task, after <paramref name="firstTaskBackoff"/> if any.
    /// </summary>
    private WorkflowRun CreateRun(WorkflowChain chain, WorkflowExecutionStartedEventAttributes attributes, string requestId,
        TimeSpan firstTaskBackoff, Action<WorkflowRun>? beforeFirstTask, string? runId = null)
    {
        var now = context.Now;
        runId ??= Guid.NewGuid().ToString();
        attributes.OriginalExecutionRunId = runId;
        if (string.IsNullOrEmpty(attributes.FirstExecutionRunId))
        {
            attributes.FirstExecutionRunId = runId;
        }
        attributes.WorkflowId = chain.WorkflowId;
        if (attributes.Attempt < 1)
        {
            attributes.Attempt = 1;
        }
        attributes.WorkflowTaskTimeout = Duration.FromTimeSpan(NormalizeTaskTimeout(attributes));
        if (attributes.WorkflowExecutionExpirationTime is null && attributes.WorkflowExecutionTimeout is { } executionTimeout &&
            executionTimeout.ToTimeSpan() > TimeSpan.Zero)
        {
            attributes.WorkflowExecutionExpirationTime = Timestamp.FromDateTimeOffset(now + executionTimeout.ToTimeSpan());
        }
        if (firstTaskBackoff > TimeSpan.Zero)
        {
            attributes.FirstWorkflowTaskBackoff = Duration.FromTimeSpan(firstTaskBackoff);
        }
        attributes.Header ??= new Header();
        var run = new WorkflowRun(chain, runId)
        {
            StartAttributes = attributes,
            StartRequestId = requestId,
            StartTime = now.UtcDateTime,
            ExecutionTime = (now + firstTaskBackoff).UtcDateTime,
        };
        if (attributes.SearchAttributes is { } searchAttributes)
        {
            run.MergeSearchAttributes(searchAttributes);
        }
        if (attributes.Memo is { } memo)
        {
            run.MergeMemo(memo);
        }
        var started = context.NewEvent(EventType.WorkflowExecutionStarted);
        started.WorkflowExecutionStartedEventAttributes = attributes;
        run.Append(started);
        chain.Runs.Add(run);
        beforeFirstTask?.Invoke(run);
        if (firstTaskBackoff > TimeSpan.Zero)
        {
            ArmFirstTask(run);
        }
        else
        {
            workflowTasks.Schedule(run);
        }
        ArmRunTimeout(run);
        context.Metrics.WorkflowStarted();
        EngineLog.RunStarted(context.Logger, chain.WorkflowId, runId, attributes.WorkflowType.Name, attributes.TaskQueue.Name, attributes.Attempt);
        return run;
    }

    private TimeSpan NormalizeTaskTimeout(WorkflowExecutionStartedEventAttributes attributes)
    {
        var timeout = attributes.WorkflowTaskTimeout?.ToTimeSpan() ?? TimeSpan.Zero;
        if (timeout <= TimeSpan.Zero)
        {
            timeout = context.Options.DefaultWorkflowTaskTimeout;
        }
        if (timeout > MaxWorkflowTaskTimeout)
        {
            timeout = MaxWorkflowTaskTimeout;
        }
        var runTimeout = attributes.WorkflowRunTimeout?.ToTimeSpan() ?? TimeSpan.Zero;
        return runTimeout > TimeSpan.Zero && timeout > runTimeout ? runTimeout : timeout;
    }

    /// <summary>A delayed start (start delay, retry or continue-as-new backoff) schedules its first task at the execution time.</summary>
    private void ArmFirstTask(WorkflowRun run) =>
        run.RunTimers.Add(context.StartTimerAt(run.ExecutionTime, () => registry.WithLockedRun(run, workflowTasks.Schedule)));

    /// <summary>Arms the run timeout and the execution expiration (whichever comes first), counted from the run's start.</summary>
    public void ArmRunTimeout(WorkflowRun run)
    {
        DateTime? deadline = null;
        if (run.StartAttributes.WorkflowRunTimeout is { } runTimeout && runTimeout.ToTimeSpan() > TimeSpan.Zero)
        {
            deadline = run.StartTime + runTimeout.ToTimeSpan();
        }
        if (run.StartAttributes.WorkflowExecutionExpirationTime is { } expiration)
        {
            var expires = expiration.ToDateTime();
            if (deadline is null || expires < deadline)
            {
                deadline = expires;
            }
        }
        if (deadline is { } due)
        {
            run.RunTimers.Add(context.StartTimerAt(due, () => registry.WithLockedRun(run, TimeOut)));
        }
    }

    /// <summary>
    /// Re-arms a run loaded from storage: an open run's timeouts and delayed first task (all counted from recorded
    /// times, so what fell due in the downtime happens at once); a closed run's retention.
    /// </summary>
    public void Resume(WorkflowRun run)
    {
        if (!run.IsOpen)
        {
            registry.ScheduleDrop(run);
            return;
        }
        if (run.Wft == WorkflowTaskState.None && !run.History.Exists(e => e.EventType == EventType.WorkflowTaskScheduled))
        {
            ArmFirstTask(run);
        }
        ArmRunTimeout(run);
    }

    private void TimeOut(WorkflowRun run)
    {
        if (!run.IsOpen)
        {
            return;
        }
        workflowTasks.FailStartedTaskForClose(run);
        var timedOut = context.NewEvent(EventType.WorkflowExecutionTimedOut);
        timedOut.WorkflowExecutionTimedOutEventAttributes = new WorkflowExecutionTimedOutEventAttributes { RetryState = RetryState.Timeout };
        Close(run, WorkflowExecutionStatus.TimedOut, timedOut, chainContinues: false);
    }

    /// <summary>Closes a run: stops its timers, ends waiting updates and queries, tells the close observers (children, parent).</summary>
    public void Close(WorkflowRun run, WorkflowExecutionStatus status, HistoryEvent closeEvent, bool chainContinues)
    {
        run.Append(closeEvent);
        run.Status = status;
        run.CloseTime = context.Now.UtcDateTime;
        run.Wft = WorkflowTaskState.None;
        run.WftTimeoutTimer?.Dispose();
        run.StickyTimer?.Dispose();
        foreach (var timer in run.RunTimers)
        {
            timer.Dispose();
        }
        run.RunTimers.Clear();
        UserTimers.StopAll(run);
        ActivityDispatcher.StopAll(run);
        UpdateCoordinator.AbortOpen(run, chainContinues);
        queries.OnRunClosed(run);
        foreach (var observer in _closeObservers)
        {
            observer.RunClosed(run, closeEvent, chainContinues);
        }
        run.NotifyHistoryChanged();
        context.Metrics.WorkflowClosed(status);
        EngineLog.RunClosed(context.Logger, run.WorkflowId, run.RunId, status);
        registry.ScheduleDrop(run);
    }

    public RequestCancelWorkflowExecutionResponse RequestCancel(RequestCancelWorkflowExecutionRequest request) =>
        registry.WithRun(request.Namespace, request.WorkflowExecution, run =>
        {
            EnsureChainMember(run, request.FirstExecutionRunId);
            RequestCancelLocked(run, request.Reason, request.Identity, externalInitiatedEventId: 0, externalExecution: null);
            return new RequestCancelWorkflowExecutionResponse();
        });

    /// <summary>A request naming the chain's first run id must reach a run of that chain.</summary>
    public static void EnsureChainMember(WorkflowRun run, string? firstExecutionRunId)
    {
        if (!string.IsNullOrEmpty(firstExecutionRunId) && run.StartAttributes.FirstExecutionRunId != firstExecutionRunId)
        {
            throw NotFoundException.Workflow(run.WorkflowId, firstExecutionRunId);
        }
    }

    /// <summary>Cancelling a closed or already cancel-requested run is a successful no-op.</summary>
    public void RequestCancelLocked(WorkflowRun run, string? reason, string? identity, long externalInitiatedEventId, WorkflowExecution? externalExecution)
    {
        if (!run.IsOpen || run.CancelRequested)
        {
            return;
        }
        run.CancelRequested = true;
        var requested = context.NewEvent(EventType.WorkflowExecutionCancelRequested);
        requested.WorkflowExecutionCancelRequestedEventAttributes = new WorkflowExecutionCancelRequestedEventAttributes
        {
            Cause = reason ?? string.Empty,
            Identity = identity ?? string.Empty,
            ExternalInitiatedEventId = externalInitiatedEventId,
            ExternalWorkflowExecution = externalExecution,
        };
        workflowTasks.AddExternalEvent(run, requested);
    }

    public TerminateWorkflowExecutionResponse Terminate(TerminateWorkflowExecutionRequest request) =>
        registry.WithRun(request.Namespace, request.WorkflowExecution, run =>
        {
            EnsureChainMember(run, request.FirstExecutionRunId);
            if (!run.IsOpen)
            {
                throw NotFoundException.WorkflowCompleted();
            }
            TerminateLocked(run, request.Reason, request.Details, request.Identity);
            return new TerminateWorkflowExecutionResponse();
        });

    public void TerminateLocked(WorkflowRun run, string? reason, Payloads? details, string? identity)
    {
        if (!run.IsOpen)
        {
            return;
        }
        workflowTasks.FailStartedTaskForClose(run);
        var terminated = context.NewEvent(EventType.WorkflowExecutionTerminated);
        terminated.WorkflowExecutionTerminatedEventAttributes = new WorkflowExecutionTerminatedEventAttributes
        {
            Reason = reason ?? string.Empty,
            Details = details,
            Identity = identity ?? string.Empty,
        };
        Close(run, WorkflowExecutionStatus.Terminated, terminated, chainContinues: false);
    }

    /// <summary>CompleteWorkflowExecution and CancelWorkflowExecution commands; a completed cron run is followed by the next one.</summary>
    public void Complete(WorkflowRun run, HistoryEvent closeEvent)
    {
        if (closeEvent.EventType == EventType.WorkflowExecutionCompleted && CronBackoff(run.StartAttributes.CronSchedule) is { } backoff)
        {
            var newRunId = Guid.NewGuid().ToString();
            closeEvent.WorkflowExecutionCompletedEventAttributes.NewExecutionRunId = newRunId;
            Close(run, WorkflowExecutionStatus.Completed, closeEvent, chainContinues: true);
            StartNextCronRun(run, newRunId, backoff, closeEvent.WorkflowExecutionCompletedEventAttributes.Result, failure: null);
            return;
        }
        Close(run, closeEvent.EventType == EventType.WorkflowExecutionCanceled ? WorkflowExecutionStatus.Canceled : WorkflowExecutionStatus.Completed,
            closeEvent, chainContinues: false);
    }

    /// <summary>Time until the cron schedule's next time, or null without one (validated at start, so it parses).</summary>
    private TimeSpan? CronBackoff(string? cronSchedule)
    {
        if (string.IsNullOrEmpty(cronSchedule))
        {
            return null;
        }
        var now = context.Now;
        var next = new ScheduleTimes(new Temporalio.Api.Schedule.V1.ScheduleSpec { CronString = { cronSchedule } }).Next(now);
        return next is { } at ? at - now : null;
    }

    /// <summary>
    /// The next run of a cron workflow: same chain and first run, attempt 1, started by the cron schedule, with the last
    /// completion result (and the failure, when the run failed) for the workflow to read.
    /// </summary>
    private void StartNextCronRun(WorkflowRun run, string newRunId, TimeSpan backoff, Payloads? lastResult, Failure? failure)
    {
        var next = run.StartAttributes.Clone();
        next.Attempt = 1;
        next.ContinuedExecutionRunId = run.RunId;
        next.Initiator = ContinueAsNewInitiator.CronSchedule;
        next.LastCompletionResult = lastResult ?? run.StartAttributes.LastCompletionResult;
        next.ContinuedFailure = failure;
        next.FirstWorkflowTaskBackoff = null;
        next.SearchAttributes = run.CurrentSearchAttributes();
        CreateRun(run.Chain, next, Guid.NewGuid().ToString(), backoff, beforeFirstTask: null, newRunId);
    }

    /// <summary>FailWorkflowExecution: the run fails, and with a retry policy that allows it the next attempt starts after its backoff.</summary>
    public void Fail(WorkflowRun run, Failure failure, long completedEventId)
    {
        var failed = context.NewEvent(EventType.WorkflowExecutionFailed);
        var attributes = new WorkflowExecutionFailedEventAttributes { Failure = failure, WorkflowTaskCompletedEventId = completedEventId };
        failed.WorkflowExecutionFailedEventAttributes = attributes;
        var policy = run.StartAttributes.RetryPolicy;
        if (policy is null)
        {
            attributes.RetryState = RetryState.RetryPolicyNotSet;
            CloseFailed(run, failed, failure);
            return;
        }
        var filled = RetryPolicies.WithDefaults(policy);
        var attempt = run.StartAttributes.Attempt;
        var delay = RetryPolicies.BackoffFor(filled, attempt);
        var expiration = run.StartAttributes.WorkflowExecutionExpirationTime?.ToDateTimeOffset();
        attributes.RetryState = !RetryPolicies.IsRetryable(failure, filled) ? RetryState.NonRetryableFailure
            : filled.MaximumAttempts > 0 && attempt >= filled.MaximumAttempts ? RetryState.MaximumAttemptsReached
            : expiration is { } expires && context.Now + delay >= expires ? RetryState.Timeout
            : RetryState.InProgress;
        if (attributes.RetryState != RetryState.InProgress)
        {
            CloseFailed(run, failed, failure);
            return;
        }
        var newRunId = Guid.NewGuid().ToString();
        attributes.NewExecutionRunId = newRunId;
        Close(run, WorkflowExecutionStatus.Failed, failed, chainContinues: true);
        var next = run.StartAttributes.Clone();
        next.Attempt = attempt + 1;
        next.ContinuedFailure = failure;
        next.ContinuedExecutionRunId = run.RunId;
        next.Initiator = ContinueAsNewInitiator.Retry;
        next.FirstWorkflowTaskBackoff = null;
        next.SearchAttributes = run.CurrentSearchAttributes();
        CreateRun(run.Chain, next, Guid.NewGuid().ToString(), delay, beforeFirstTask: null, newRunId);
    }

    /// <summary>A failure that is not retried ends the run; a cron workflow still goes on at its next time.</summary>
    private void CloseFailed(WorkflowRun run, HistoryEvent failed, Failure failure)
    {
        if (CronBackoff(run.StartAttributes.CronSchedule) is { } backoff)
        {
            var newRunId = Guid.NewGuid().ToString();
            failed.WorkflowExecutionFailedEventAttributes.NewExecutionRunId = newRunId;
            Close(run, WorkflowExecutionStatus.Failed, failed, chainContinues: true);
            StartNextCronRun(run, newRunId, backoff, lastResult: null, failure);
            return;
        }
        Close(run, WorkflowExecutionStatus.Failed, failed, chainContinues: false);
    }

    public void ContinueAsNew(WorkflowRun run, ContinueAsNewWorkflowExecutionCommandAttributes command, long completedEventId)
    {
        var previous = run.StartAttributes;
        var newRunId = Guid.NewGuid().ToString();
        var workflowType = string.IsNullOrEmpty(command.WorkflowType?.Name) ? previous.WorkflowType : command.WorkflowType;
        var taskQueue = string.IsNullOrEmpty(command.TaskQueue?.Name) ? previous.TaskQueue.Name : command.TaskQueue.Name;
        var runTimeout = command.WorkflowRunTimeout ?? previous.WorkflowRunTimeout;
        var taskTimeout = command.WorkflowTaskTimeout is { } t && t.ToTimeSpan() > TimeSpan.Zero ? t : previous.WorkflowTaskTimeout;
        var memo = command.Memo ?? previous.Memo;
        var searchAttributes = command.SearchAttributes ?? run.CurrentSearchAttributes();
        var header = command.Header ?? previous.Header;
        var continued = context.NewEvent(EventType.WorkflowExecutionContinuedAsNew);
        continued.WorkflowExecutionContinuedAsNewEventAttributes = new WorkflowExecutionContinuedAsNewEventAttributes
        {
            NewExecutionRunId = newRunId,
            WorkflowType = workflowType,
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = taskQueue, Kind = TaskQueueKind.Normal },
            Input = command.Input,
            WorkflowRunTimeout = runTimeout,
            WorkflowTaskTimeout = taskTimeout,
            WorkflowTaskCompletedEventId = completedEventId,
            BackoffStartInterval = command.BackoffStartInterval,
            Initiator = command.Initiator == ContinueAsNewInitiator.Unspecified ? ContinueAsNewInitiator.Workflow : command.Initiator,
            Failure = command.Failure,
            LastCompletionResult = command.LastCompletionResult,
            Header = header,
            Memo = memo,
            SearchAttributes = searchAttributes,
        };
        Close(run, WorkflowExecutionStatus.ContinuedAsNew, continued, chainContinues: true);
        var next = new WorkflowExecutionStartedEventAttributes
        {
            WorkflowType = workflowType,
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = taskQueue, Kind = TaskQueueKind.Normal },
            Input = command.Input,
            WorkflowRunTimeout = runTimeout,
            WorkflowTaskTimeout = taskTimeout,
            WorkflowExecutionTimeout = previous.WorkflowExecutionTimeout,
            WorkflowExecutionExpirationTime = previous.WorkflowExecutionExpirationTime,
            ContinuedExecutionRunId = run.RunId,
            FirstExecutionRunId = previous.FirstExecutionRunId,
            Initiator = continued.WorkflowExecutionContinuedAsNewEventAttributes.Initiator,
            ContinuedFailure = command.Failure,
            LastCompletionResult = command.LastCompletionResult,
            Identity = previous.Identity,
            RetryPolicy = command.RetryPolicy ?? previous.RetryPolicy,
            Attempt = 1,
            Header = header,
            Memo = memo,
            SearchAttributes = searchAttributes,
            ParentWorkflowNamespace = previous.ParentWorkflowNamespace,
            ParentWorkflowNamespaceId = previous.ParentWorkflowNamespaceId,
            ParentWorkflowExecution = previous.ParentWorkflowExecution,
            ParentInitiatedEventId = previous.ParentInitiatedEventId,
            RootWorkflowExecution = previous.RootWorkflowExecution,
            Priority = previous.Priority,
        };
        CreateRun(run.Chain, next, Guid.NewGuid().ToString(), command.BackoffStartInterval?.ToTimeSpan() ?? TimeSpan.Zero, beforeFirstTask: null, newRunId);
    }
}
