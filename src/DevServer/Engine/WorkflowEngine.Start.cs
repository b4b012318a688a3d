using AgentOrchestrator.DevServer.Grpc;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.ErrorDetails.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

internal sealed partial class WorkflowEngine
{
    private static readonly TimeSpan MaxWorkflowTaskTimeout = TimeSpan.FromSeconds(120);

    /// <summary>What a start request asks for, whichever RPC it came from.</summary>
    internal sealed record StartSpec(
        string Namespace,
        WorkflowExecutionStartedEventAttributes Attributes,
        string RequestId,
        WorkflowIdReusePolicy ReusePolicy,
        WorkflowIdConflictPolicy ConflictPolicy,
        TimeSpan StartDelay);

    internal readonly record struct StartOutcome(WorkflowRun Run, bool Started);

    public StartWorkflowExecutionResponse StartWorkflow(StartWorkflowExecutionRequest request)
    {
        var outcome = Start(ToStartSpec(request.Namespace, request.WorkflowId, request.WorkflowType, request.TaskQueue,
            request.Input, request.WorkflowExecutionTimeout, request.WorkflowRunTimeout, request.WorkflowTaskTimeout,
            request.Identity, request.RequestId, request.WorkflowIdReusePolicy, request.WorkflowIdConflictPolicy,
            request.RetryPolicy, request.CronSchedule, request.Memo, request.SearchAttributes, request.Header,
            request.WorkflowStartDelay, request.Priority), beforeFirstTask: null);
        return new StartWorkflowExecutionResponse
        {
            RunId = outcome.Run.RunId,
            Started = outcome.Started,
            Status = WorkflowExecutionStatus.Running,
        };
    }

    internal static StartSpec ToStartSpec(string ns, string workflowId, Temporalio.Api.Common.V1.WorkflowType? type,
        Temporalio.Api.TaskQueue.V1.TaskQueue? taskQueue, Payloads? input, Duration? executionTimeout, Duration? runTimeout,
        Duration? taskTimeout, string identity, string requestId, WorkflowIdReusePolicy reuse, WorkflowIdConflictPolicy conflict,
        RetryPolicy? retryPolicy, string cronSchedule, Memo? memo, SearchAttributes? searchAttributes, Header? header,
        Duration? startDelay, Priority? priority)
    {
        if (string.IsNullOrEmpty(workflowId))
        {
            throw GrpcErrors.InvalidArgument("WorkflowId is not set on request.");
        }
        if (string.IsNullOrEmpty(type?.Name))
        {
            throw GrpcErrors.InvalidArgument("WorkflowType is not set on request.");
        }
        if (string.IsNullOrEmpty(taskQueue?.Name))
        {
            throw GrpcErrors.InvalidArgument("TaskQueue is not set on request.");
        }
        if (!string.IsNullOrEmpty(cronSchedule) && startDelay is not null && startDelay.ToTimeSpan() > TimeSpan.Zero)
        {
            throw GrpcErrors.InvalidArgument("CronSchedule and WorkflowStartDelay may not be used together.");
        }
        (reuse, conflict) = NormalizeIdPolicies(reuse, conflict);
        var attributes = new WorkflowExecutionStartedEventAttributes
        {
            WorkflowType = type.Clone(),
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = taskQueue.Name, Kind = TaskQueueKind.Normal },
            Input = input,
            WorkflowExecutionTimeout = executionTimeout,
            WorkflowRunTimeout = runTimeout,
            WorkflowTaskTimeout = taskTimeout,
            Identity = identity ?? string.Empty,
            RetryPolicy = retryPolicy,
            CronSchedule = cronSchedule ?? string.Empty,
            Memo = memo,
            SearchAttributes = searchAttributes,
            Header = header,
            Priority = priority,
            Attempt = 1,
            WorkflowId = workflowId,
        };
        return new StartSpec(ns, attributes, string.IsNullOrEmpty(requestId) ? Guid.NewGuid().ToString() : requestId,
            reuse, conflict, startDelay?.ToTimeSpan() ?? TimeSpan.Zero);
    }

    private static (WorkflowIdReusePolicy, WorkflowIdConflictPolicy) NormalizeIdPolicies(WorkflowIdReusePolicy reuse, WorkflowIdConflictPolicy conflict)
    {
        if (reuse == WorkflowIdReusePolicy.TerminateIfRunning)
        {
            if (conflict != WorkflowIdConflictPolicy.Unspecified)
            {
                throw GrpcErrors.InvalidArgument("Invalid WorkflowIDReusePolicy: WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING cannot be used together with a WorkflowIDConflictPolicy.");
            }
            return (WorkflowIdReusePolicy.AllowDuplicate, WorkflowIdConflictPolicy.TerminateExisting);
        }
        if (conflict == WorkflowIdConflictPolicy.TerminateExisting && reuse == WorkflowIdReusePolicy.RejectDuplicate)
        {
            throw GrpcErrors.InvalidArgument("Invalid WorkflowIDReusePolicy: WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE cannot be used together with WorkflowIdConflictPolicy WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING.");
        }
        return (reuse == WorkflowIdReusePolicy.Unspecified ? WorkflowIdReusePolicy.AllowDuplicate : reuse,
            conflict == WorkflowIdConflictPolicy.Unspecified ? WorkflowIdConflictPolicy.Fail : conflict);
    }

    /// <summary>Runs <paramref name="action"/> under the lock of the chain for a workflow id, creating it if needed.</summary>
    private T WithChain<T>(string ns, string workflowId, Func<WorkflowChain, T> action)
    {
        var state = GetNamespace(ns);
        while (true)
        {
            var chain = state.Chains.GetOrAdd(workflowId, static (id, s) => new WorkflowChain(s, id), state);
            lock (chain)
            {
                // Retention may have dropped this chain between the lookup and the lock.
                if (state.Chains.TryGetValue(workflowId, out var live) && ReferenceEquals(live, chain))
                {
                    return action(chain);
                }
            }
        }
    }

    internal StartOutcome Start(StartSpec spec, Action<WorkflowRun>? beforeFirstTask) =>
        WithChain(spec.Namespace, spec.Attributes.WorkflowId, chain => StartLocked(chain, spec, beforeFirstTask));

    private StartOutcome StartLocked(WorkflowChain chain, StartSpec spec, Action<WorkflowRun>? beforeFirstTask)
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
        var run = CreateRun(chain, spec.Attributes, spec.RequestId, spec.StartDelay, beforeFirstTask);
        return new StartOutcome(run, true);
    }

    private static RpcException AlreadyStarted(string message, WorkflowRun current) =>
        GrpcErrors.WithDetail(StatusCode.AlreadyExists, message, new WorkflowExecutionAlreadyStartedFailure
        {
            StartRequestId = current.StartRequestId,
            RunId = current.RunId,
        });

    /// <summary>
    /// Creates a run in a chain (fresh start, continue-as-new, retry or child) and schedules its first
    /// workflow task, after <paramref name="firstTaskBackoff"/> if any.
    /// </summary>
    private WorkflowRun CreateRun(WorkflowChain chain, WorkflowExecutionStartedEventAttributes attributes, string requestId,
        TimeSpan firstTaskBackoff, Action<WorkflowRun>? beforeFirstTask, string? runId = null)
    {
        var now = Now;
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
            MergeSearchAttributes(run, searchAttributes);
        }
        if (attributes.Memo is { } memo)
        {
            foreach (var (key, value) in memo.Fields)
            {
                run.MemoValues[key] = value;
            }
        }
        var started = NewEvent(EventType.WorkflowExecutionStarted);
        started.WorkflowExecutionStartedEventAttributes = attributes;
        run.Append(started);
        chain.Runs.Add(run);
        beforeFirstTask?.Invoke(run);
        if (firstTaskBackoff > TimeSpan.Zero)
        {
            run.RunTimers.Add(StartTimer(firstTaskBackoff, () => WithLockedRun(run, r => ScheduleWorkflowTask(r))));
        }
        else
        {
            ScheduleWorkflowTask(run);
        }
        ArmRunTimeout(run, now);
        _metrics.WorkflowStarted();
        EngineLog.RunStarted(_logger, chain.WorkflowId, runId, attributes.WorkflowType.Name, attributes.TaskQueue.Name, attributes.Attempt);
        return run;
    }

    private TimeSpan NormalizeTaskTimeout(WorkflowExecutionStartedEventAttributes attributes)
    {
        var timeout = attributes.WorkflowTaskTimeout?.ToTimeSpan() ?? TimeSpan.Zero;
        if (timeout <= TimeSpan.Zero)
        {
            timeout = Options.DefaultWorkflowTaskTimeout;
        }
        if (timeout > MaxWorkflowTaskTimeout)
        {
            timeout = MaxWorkflowTaskTimeout;
        }
        var runTimeout = attributes.WorkflowRunTimeout?.ToTimeSpan() ?? TimeSpan.Zero;
        return runTimeout > TimeSpan.Zero && timeout > runTimeout ? runTimeout : timeout;
    }

    /// <summary>Arms the run timeout and the execution expiration (whichever comes first).</summary>
    private void ArmRunTimeout(WorkflowRun run, DateTimeOffset now)
    {
        DateTimeOffset? deadline = null;
        if (run.StartAttributes.WorkflowRunTimeout is { } runTimeout && runTimeout.ToTimeSpan() > TimeSpan.Zero)
        {
            deadline = now + runTimeout.ToTimeSpan();
        }
        if (run.StartAttributes.WorkflowExecutionExpirationTime is { } expiration)
        {
            var expires = expiration.ToDateTimeOffset();
            if (deadline is null || expires < deadline)
            {
                deadline = expires;
            }
        }
        if (deadline is { } due)
        {
            run.RunTimers.Add(StartTimer(due - now, () => WithLockedRun(run, TimeOutRun)));
        }
    }

    private void TimeOutRun(WorkflowRun run)
    {
        if (!run.IsOpen)
        {
            return;
        }
        FailStartedTaskForClose(run);
        var timedOut = NewEvent(EventType.WorkflowExecutionTimedOut);
        timedOut.WorkflowExecutionTimedOutEventAttributes = new WorkflowExecutionTimedOutEventAttributes { RetryState = RetryState.Timeout };
        CloseRun(run, WorkflowExecutionStatus.TimedOut, timedOut, chainContinues: false);
    }

    /// <summary>Runs an action on a run under its chain's lock (for timer and deferred callbacks).</summary>
    private static void WithLockedRun(WorkflowRun run, Action<WorkflowRun> action)
    {
        lock (run.Chain)
        {
            action(run);
        }
    }

    private static void MergeSearchAttributes(WorkflowRun run, SearchAttributes searchAttributes)
    {
        foreach (var (key, value) in searchAttributes.IndexedFields)
        {
            // .NET unsets an attribute by sending a binary/null payload.
            if (value.Metadata.TryGetValue("encoding", out var encoding) && encoding.ToStringUtf8() == "binary/null")
            {
                run.SearchAttributeValues.Remove(key);
            }
            else
            {
                run.SearchAttributeValues[key] = value;
            }
        }
    }

    public SignalWithStartWorkflowExecutionResponse SignalWithStart(SignalWithStartWorkflowExecutionRequest request)
    {
        if (string.IsNullOrEmpty(request.SignalName))
        {
            throw GrpcErrors.InvalidArgument("SignalName is not set on request.");
        }
        var spec = ToStartSpec(request.Namespace, request.WorkflowId, request.WorkflowType, request.TaskQueue,
            request.Input, request.WorkflowExecutionTimeout, request.WorkflowRunTimeout, request.WorkflowTaskTimeout,
            request.Identity, request.RequestId, request.WorkflowIdReusePolicy,
            request.WorkflowIdConflictPolicy == WorkflowIdConflictPolicy.Unspecified ? WorkflowIdConflictPolicy.UseExisting : request.WorkflowIdConflictPolicy,
            request.RetryPolicy, request.CronSchedule, request.Memo, request.SearchAttributes, request.Header,
            request.WorkflowStartDelay, request.Priority);
        HistoryEvent SignalEvent()
        {
            var signaled = NewEvent(EventType.WorkflowExecutionSignaled);
            signaled.WorkflowExecutionSignaledEventAttributes = new WorkflowExecutionSignaledEventAttributes
            {
                SignalName = request.SignalName,
                Input = request.SignalInput,
                Identity = request.Identity ?? string.Empty,
                Header = request.Header,
            };
            return signaled;
        }
        return WithChain(spec.Namespace, request.WorkflowId, chain =>
        {
            var current = chain.Current;
            if (current is { IsOpen: true } && spec.ConflictPolicy == WorkflowIdConflictPolicy.UseExisting)
            {
                // A retried RPC carries the same request id: deliver the signal once.
                if (current.SignalRequestIds.Add(spec.RequestId))
                {
                    AddExternalEvent(current, SignalEvent());
                }
                return new SignalWithStartWorkflowExecutionResponse { RunId = current.RunId, Started = false };
            }
            // The signal is written before the first workflow task is scheduled, and cuts any start delay short.
            var started = StartLocked(chain, spec with { StartDelay = TimeSpan.Zero }, run => run.Append(SignalEvent()));
            return new SignalWithStartWorkflowExecutionResponse { RunId = started.Run.RunId, Started = started.Started };
        });
    }
}
