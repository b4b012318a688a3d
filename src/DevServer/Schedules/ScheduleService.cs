using System.Collections.Concurrent;
using System.Globalization;
using AgentOrchestrator.DevServer.Calendars;
using AgentOrchestrator.DevServer.Engine;
using AgentOrchestrator.DevServer.Visibility;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Schedule.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Schedules;

/// <summary>
/// Temporal schedules: create, describe, list, update, patch (trigger, backfill, pause) and delete, with cron,
/// calendar and interval specs and every overlap policy. Each schedule wakes on a timer at its next action time and
/// acts on every nominal time it has not processed yet, so after downtime (a suspended process, or a restart from a
/// store) missed actions inside the catch-up window still run and older ones are counted as missed. Workflows are
/// started through the engine's ordinary start path; their close is watched with the history long poll. Every change
/// is saved to the engine's store (kind "schedule"), and a restarted server resumes each saved schedule from there.
/// </summary>
internal sealed class ScheduleService : IDisposable
{
    /// <summary>Temporal's default catch-up window.</summary>
    private static readonly TimeSpan s_defaultCatchupWindow = TimeSpan.FromDays(365);
    private static readonly TimeSpan s_maxTimerDue = TimeSpan.FromDays(1);

    private const int RecentActionsKept = 10;
    private const int FutureActionsShown = 10;

    /// <summary>Bounds the work of one wake-up (a long downtime with a one-second interval would otherwise be unbounded).</summary>
    private const int MaxActionsPerWake = 1000;

    private readonly ConcurrentDictionary<(string Namespace, string Id), ScheduleEntry> _schedules = new();
    private readonly WorkflowEngine _engine;
    private readonly TimeProvider _time;
    private readonly ILogger<ScheduleService> _logger;
    private readonly CancellationTokenSource _stopping = new();

    public const string RecordKind = "schedule";

    public ScheduleService(WorkflowEngine engine, TimeProvider time, ILogger<ScheduleService> logger)
    {
        _engine = engine;
        _time = time;
        _logger = logger;
        foreach (var (_, value) in engine.Registry.Store.LoadRecords(RecordKind))
        {
            var entry = ScheduleRecord.Read(value);
            lock (entry)
            {
                entry.Times = new ScheduleTimes(entry.Schedule.Spec);
                _schedules[(entry.Namespace, entry.ScheduleId)] = entry;
                foreach (var execution in entry.Info.RunningWorkflows)
                {
                    WatchClose(entry, execution);
                }
                // Arming from the saved catch-up point wakes at once when actions fell due while the server was down.
                Arm(entry);
            }
        }
    }

    private DateTimeOffset Now => _time.GetUtcNow();

    public CreateScheduleResponse Create(CreateScheduleRequest request)
    {
        Require(!string.IsNullOrEmpty(request.ScheduleId), "ScheduleId is not set on request.");
        var entry = new ScheduleEntry(request.Namespace, request.ScheduleId);
        lock (entry)
        {
            Apply(entry, request.Schedule);
            entry.Memo = request.Memo;
            entry.SearchAttributes = request.SearchAttributes;
            entry.LastProcessed = Now;
            entry.Info.CreateTime = Timestamp.FromDateTimeOffset(Now);
            if (!_schedules.TryAdd((request.Namespace, request.ScheduleId), entry))
            {
                throw new ScheduleException(ScheduleErrorKind.AlreadyExists, "schedule with this ID is already registered");
            }
            if (request.InitialPatch is { } patch)
            {
                ApplyPatch(entry, patch);
            }
            Arm(entry);
            Save(entry);
            return new CreateScheduleResponse { ConflictToken = Token(entry) };
        }
    }

    public DescribeScheduleResponse Describe(DescribeScheduleRequest request)
    {
        var entry = Find(request.Namespace, request.ScheduleId);
        lock (entry)
        {
            var schedule = entry.Schedule.Clone();
            schedule.Spec = ScheduleTimes.Canonical(schedule.Spec);
            var info = entry.Info.Clone();
            info.BufferSize = entry.Buffer.Count;
            info.FutureActionTimes.Add(FutureTimes(entry, FutureActionsShown));
            return new DescribeScheduleResponse
            {
                Schedule = schedule,
                Info = info,
                Memo = entry.Memo ?? new Memo(),
                SearchAttributes = entry.SearchAttributes ?? new SearchAttributes(),
                ConflictToken = Token(entry),
            };
        }
    }

    public ListSchedulesResponse List(ListSchedulesRequest request, int defaultPageSize)
    {
        VisibilityQuery query;
        try
        {
            query = VisibilityQuery.Parse(request.Query);
        }
        catch (VisibilityQueryException error)
        {
            throw new ScheduleException(ScheduleErrorKind.InvalidArgument, $"invalid query: {error.Message}");
        }
        var all = _schedules.Values.Where(e => e.Namespace == request.Namespace && !e.Deleted && Matches(e, query))
            .OrderBy(e => e.ScheduleId, StringComparer.Ordinal).ToList();
        var offset = Grpc.PageToken.ReadOffset(request.NextPageToken);
        var size = request.MaximumPageSize > 0 ? request.MaximumPageSize : defaultPageSize;
        var response = new ListSchedulesResponse();
        foreach (var entry in all.Skip(offset).Take(size))
        {
            lock (entry)
            {
                var info = new ScheduleListInfo
                {
                    Spec = ScheduleTimes.Canonical(entry.Schedule.Spec),
                    WorkflowType = entry.Schedule.Action.StartWorkflow.WorkflowType,
                    Notes = entry.Schedule.State.Notes,
                    Paused = entry.Schedule.State.Paused,
                };
                info.RecentActions.Add(entry.RecentActions.TakeLast(5));
                info.FutureActionTimes.Add(FutureTimes(entry, 5));
                response.Schedules.Add(new ScheduleListEntry
                {
                    ScheduleId = entry.ScheduleId,
                    Memo = entry.Memo ?? new Memo(),
                    SearchAttributes = entry.SearchAttributes ?? new SearchAttributes(),
                    Info = info,
                });
            }
        }
        if (offset + size < all.Count)
        {
            response.NextPageToken = Grpc.PageToken.Offset(offset + size);
        }
        return response;
    }

    private static bool Matches(ScheduleEntry entry, VisibilityQuery query)
    {
        lock (entry)
        {
            return query.Matches(new ScheduleVisibilityRecord(entry));
        }
    }

    public long Count(string ns) => _schedules.Values.Count(e => e.Namespace == ns && !e.Deleted);

    public UpdateScheduleResponse Update(UpdateScheduleRequest request)
    {
        var entry = Find(request.Namespace, request.ScheduleId);
        lock (entry)
        {
            CheckToken(entry, request.ConflictToken);
            Apply(entry, request.Schedule);
            if (request.SearchAttributes is not null)
            {
                entry.SearchAttributes = request.SearchAttributes;
            }
            // A new spec applies from now on: times before the update are not caught up.
            if (entry.LastProcessed < Now)
            {
                entry.LastProcessed = Now;
            }
            entry.Info.UpdateTime = Timestamp.FromDateTimeOffset(Now);
            entry.ConflictToken++;
            Arm(entry);
            Save(entry);
            return new UpdateScheduleResponse();
        }
    }

    public PatchScheduleResponse Patch(PatchScheduleRequest request)
    {
        var entry = Find(request.Namespace, request.ScheduleId);
        lock (entry)
        {
            if (request.Patch is { } patch)
            {
                ApplyPatch(entry, patch);
                entry.Info.UpdateTime = Timestamp.FromDateTimeOffset(Now);
                Arm(entry);
                Save(entry);
            }
            return new PatchScheduleResponse();
        }
    }

    public DeleteScheduleResponse Delete(DeleteScheduleRequest request)
    {
        var entry = Find(request.Namespace, request.ScheduleId);
        lock (entry)
        {
            entry.Deleted = true;
            entry.Timer?.Dispose();
            _schedules.TryRemove((entry.Namespace, entry.ScheduleId), out _);
            _engine.Registry.Store.PutRecord(RecordKind, Key(entry), null);
            return new DeleteScheduleResponse();
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        foreach (var entry in _schedules.Values)
        {
            lock (entry)
            {
                entry.Timer?.Dispose();
            }
        }
        _stopping.Dispose();
    }

    private static string Key(ScheduleEntry entry) => $"{entry.Namespace}/{entry.ScheduleId}";

    /// <summary>Called under the entry's lock after every change.</summary>
    private void Save(ScheduleEntry entry) => _engine.Registry.Store.PutRecord(RecordKind, Key(entry), ScheduleRecord.Write(entry));

    private ScheduleEntry Find(string ns, string scheduleId) =>
        _schedules.TryGetValue((ns, scheduleId), out var entry) && !entry.Deleted ? entry
        : throw new ScheduleException(ScheduleErrorKind.NotFound, $"schedule \"{scheduleId}\" not found");

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ScheduleException(ScheduleErrorKind.InvalidArgument, message);
        }
    }

    private static ByteString Token(ScheduleEntry entry) => ByteString.CopyFromUtf8(entry.ConflictToken.ToString(CultureInfo.InvariantCulture));

    private static void CheckToken(ScheduleEntry entry, ByteString token)
    {
        if (!token.IsEmpty && !token.Equals(Token(entry)))
        {
            throw new ScheduleException(ScheduleErrorKind.ConflictTokenMismatch, "mismatched conflict token");
        }
    }

    /// <summary>Validates and installs a new schedule definition; nothing changes when it is refused.</summary>
    private static void Apply(ScheduleEntry entry, Schedule? schedule)
    {
        Require(schedule is not null, "Schedule is not set on request.");
        var start = schedule!.Action?.StartWorkflow;
        Require(start is not null, "the schedule's action must start a workflow");
        Require(!string.IsNullOrEmpty(start!.WorkflowId), "the schedule's start workflow action needs a workflow id");
        Require(!string.IsNullOrEmpty(start.WorkflowType?.Name), "the schedule's start workflow action needs a workflow type");
        Require(!string.IsNullOrEmpty(start.TaskQueue?.Name), "the schedule's start workflow action needs a task queue");
        var spec = schedule.Spec ?? new ScheduleSpec();
        ScheduleTimes times;
        try
        {
            times = new ScheduleTimes(spec);
        }
        catch (FormatException error)
        {
            throw new ScheduleException(ScheduleErrorKind.InvalidArgument, $"invalid schedule spec: {error.Message}");
        }
        var copy = schedule.Clone();
        copy.Spec = spec.Clone();
        copy.Policies ??= new SchedulePolicies();
        copy.State ??= new ScheduleState();
        entry.Schedule = copy;
        entry.Times = times;
    }

    private void ApplyPatch(ScheduleEntry entry, SchedulePatch patch)
    {
        var state = entry.Schedule.State;
        if (!string.IsNullOrEmpty(patch.Pause))
        {
            state.Paused = true;
            state.Notes = patch.Pause;
        }
        if (!string.IsNullOrEmpty(patch.Unpause))
        {
            state.Paused = false;
            state.Notes = patch.Unpause;
            // Times that passed while paused are skipped, not caught up.
            entry.LastProcessed = Now;
            StartBuffered(entry);
        }
        if (patch.TriggerImmediately is { } trigger)
        {
            Act(entry, Now, Policy(entry, trigger.OverlapPolicy), countsAgainstLimit: false);
        }
        foreach (var backfill in patch.BackfillRequest)
        {
            var from = backfill.StartTime?.ToDateTimeOffset() ?? Now;
            var to = backfill.EndTime?.ToDateTimeOffset() ?? Now;
            var policy = Policy(entry, backfill.OverlapPolicy);
            var cursor = from - TimeSpan.FromTicks(1);
            for (var i = 0; i < MaxActionsPerWake && entry.Times.Next(cursor) is { } nominal && nominal <= to; i++)
            {
                Act(entry, nominal, policy, countsAgainstLimit: false);
                cursor = nominal;
            }
        }
    }

    private static ScheduleOverlapPolicy Policy(ScheduleEntry entry, ScheduleOverlapPolicy requested) =>
        requested != ScheduleOverlapPolicy.Unspecified ? requested
        : entry.Schedule.Policies.OverlapPolicy != ScheduleOverlapPolicy.Unspecified ? entry.Schedule.Policies.OverlapPolicy
        : ScheduleOverlapPolicy.Skip;

    private List<Timestamp> FutureTimes(ScheduleEntry entry, int count)
    {
        var times = new List<Timestamp>();
        if (entry.Schedule.State.LimitedActions && entry.Schedule.State.RemainingActions <= 0)
        {
            return times;
        }
        // A nominal time up to one jitter back may still be due (its jittered time is ahead).
        var jitter = MaxJitter(entry);
        var earliest = Now - jitter;
        var cursor = entry.LastProcessed > earliest ? entry.LastProcessed : earliest;
        while (times.Count < count && entry.Times.Next(cursor) is { } next)
        {
            var actual = ActualTime(entry, next);
            if (actual > Now)
            {
                times.Add(Timestamp.FromDateTimeOffset(actual));
            }
            cursor = next;
        }
        return times;
    }

    private static TimeSpan MaxJitter(ScheduleEntry entry) =>
        entry.Schedule.Spec?.Jitter?.ToTimeSpan() is { } jitter && jitter > TimeSpan.Zero ? jitter : TimeSpan.Zero;

    /// <summary>
    /// When the action of <paramref name="nominal"/> runs: the nominal time plus a jitter that is a fixed fraction (from
    /// the schedule id and the time, so the same after a restart) of at most the spec's jitter and the time to the next
    /// nominal time. Workflow ids and ScheduleTime keep the nominal time.
    /// </summary>
    private static DateTimeOffset ActualTime(ScheduleEntry entry, DateTimeOffset nominal)
    {
        var jitter = MaxJitter(entry);
        if (jitter == TimeSpan.Zero)
        {
            return nominal;
        }
        if (entry.Times.Next(nominal) is { } following && following - nominal < jitter)
        {
            jitter = following - nominal;
        }
        var hash = 14695981039346656037UL; // FNV-1a: stable across processes, unlike string.GetHashCode
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(FormattableString.Invariant($"{entry.Namespace}/{entry.ScheduleId}/{nominal.UtcTicks}")))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        var fraction = (hash >> 11) / (double)(1UL << 53);
        return nominal + TimeSpan.FromTicks((long)(jitter.Ticks * fraction));
    }

    /// <summary>Sets the timer for the next action time (none while paused or out of actions).</summary>
    private void Arm(ScheduleEntry entry)
    {
        entry.Timer?.Dispose();
        entry.Timer = null;
        if (entry.Deleted || entry.Schedule.State.Paused || (entry.Schedule.State.LimitedActions && entry.Schedule.State.RemainingActions <= 0))
        {
            return;
        }
        if (entry.Times.Next(entry.LastProcessed) is not { } next)
        {
            return;
        }
        // A timer cannot be set further out than about 49 days (a yearly schedule's next time often is): wake up daily
        // until then; a wake-up with nothing due only sets the timer again.
        var wait = ActualTime(entry, next) - Now;
        var due = wait > s_maxTimerDue ? s_maxTimerDue : wait;
        entry.Timer = _time.CreateTimer(static s =>
        {
            var (service, e) = ((ScheduleService, ScheduleEntry))s!;
            ThreadPool.UnsafeQueueUserWorkItem(static x => x.service.Wake(x.e), (service, e), preferLocal: false);
        }, (this, entry), due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Acts on every nominal time since the last wake-up: the normal case is one, after downtime several.</summary>
    private void Wake(ScheduleEntry entry)
    {
        lock (entry)
        {
            if (entry.Deleted)
            {
                return;
            }
            var now = Now;
            var state = entry.Schedule.State;
            var window = entry.Schedule.Policies.CatchupWindow?.ToTimeSpan() is { } w && w > TimeSpan.Zero ? w : s_defaultCatchupWindow;
            var cursor = entry.LastProcessed;
            for (var i = 0; i < MaxActionsPerWake && !state.Paused && entry.Times.Next(cursor) is { } nominal && ActualTime(entry, nominal) <= now; i++)
            {
                cursor = nominal;
                if (state.LimitedActions && state.RemainingActions <= 0)
                {
                    break;
                }
                if (now - nominal > window)
                {
                    entry.Info.MissedCatchupWindow++;
                    ScheduleLog.MissedCatchupWindow(_logger, entry.ScheduleId, nominal);
                    continue;
                }
                Act(entry, nominal, Policy(entry, ScheduleOverlapPolicy.Unspecified), countsAgainstLimit: true);
            }
            entry.LastProcessed = cursor > entry.LastProcessed ? cursor : entry.LastProcessed;
            if (entry.Times.Next(entry.LastProcessed) is { } pending && ActualTime(entry, pending) <= now)
            {
                entry.LastProcessed = now; // beyond the per-wake bound: the rest is dropped, not replayed forever
            }
            Arm(entry);
            Save(entry);
        }
    }

    /// <summary>One action at a nominal time, under the overlap policy.</summary>
    private void Act(ScheduleEntry entry, DateTimeOffset nominal, ScheduleOverlapPolicy policy, bool countsAgainstLimit)
    {
        var running = entry.Info.RunningWorkflows.Count > 0;
        if (running)
        {
            switch (policy)
            {
                case ScheduleOverlapPolicy.Skip:
                    entry.Info.OverlapSkipped++;
                    return;
                case ScheduleOverlapPolicy.BufferOne:
                    if (entry.Buffer.Count > 0)
                    {
                        entry.Info.BufferDropped++;
                        return;
                    }
                    entry.Buffer.Enqueue(nominal);
                    ConsumeAction(entry, countsAgainstLimit);
                    return;
                case ScheduleOverlapPolicy.BufferAll:
                    entry.Buffer.Enqueue(nominal);
                    ConsumeAction(entry, countsAgainstLimit);
                    return;
                case ScheduleOverlapPolicy.CancelOther:
                    foreach (var execution in entry.Info.RunningWorkflows)
                    {
                        Try(() => _engine.Lifecycle.RequestCancel(new RequestCancelWorkflowExecutionRequest
                        {
                            Namespace = entry.Namespace,
                            WorkflowExecution = execution.Clone(),
                            Identity = "temporal-scheduler",
                            RequestId = Guid.NewGuid().ToString(),
                            Reason = "cancelled by schedule overlap policy",
                        }), entry);
                    }
                    entry.Buffer.Clear();
                    entry.Buffer.Enqueue(nominal);
                    ConsumeAction(entry, countsAgainstLimit);
                    return;
                case ScheduleOverlapPolicy.TerminateOther:
                    foreach (var execution in entry.Info.RunningWorkflows.ToList())
                    {
                        Try(() => _engine.Lifecycle.Terminate(new TerminateWorkflowExecutionRequest
                        {
                            Namespace = entry.Namespace,
                            WorkflowExecution = execution.Clone(),
                            Identity = "temporal-scheduler",
                            Reason = "terminated by schedule overlap policy",
                        }), entry);
                    }
                    entry.Info.RunningWorkflows.Clear();
                    break;
                case ScheduleOverlapPolicy.AllowAll:
                default:
                    break;
            }
        }
        ConsumeAction(entry, countsAgainstLimit);
        Start(entry, nominal);
    }

    private static void ConsumeAction(ScheduleEntry entry, bool countsAgainstLimit)
    {
        if (countsAgainstLimit && entry.Schedule.State.LimitedActions)
        {
            entry.Schedule.State.RemainingActions--;
        }
    }

    private void Try(Action action, ScheduleEntry entry)
    {
        try
        {
            action();
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            ScheduleLog.ActionFailed(_logger, entry.ScheduleId, error);
        }
    }

    /// <summary>Starts the action's workflow with Temporal's id (workflow id + "-" + nominal time) and watches its close.</summary>
    private void Start(ScheduleEntry entry, DateTimeOffset nominal)
    {
        var action = entry.Schedule.Action.StartWorkflow;
        var workflowId = $"{action.WorkflowId}-{nominal.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}";
        var searchAttributes = action.SearchAttributes?.Clone() ?? new SearchAttributes();
        searchAttributes.IndexedFields["TemporalScheduledStartTime"] = JsonPayload($"\"{nominal.UtcDateTime.ToString("o", CultureInfo.InvariantCulture)}\"", "Datetime");
        searchAttributes.IndexedFields["TemporalScheduledById"] = JsonPayload($"\"{entry.ScheduleId}\"", "Keyword");
        var request = new StartWorkflowExecutionRequest
        {
            Namespace = entry.Namespace,
            WorkflowId = workflowId,
            WorkflowType = action.WorkflowType,
            TaskQueue = action.TaskQueue,
            Input = action.Input,
            WorkflowExecutionTimeout = action.WorkflowExecutionTimeout,
            WorkflowRunTimeout = action.WorkflowRunTimeout,
            WorkflowTaskTimeout = action.WorkflowTaskTimeout,
            RetryPolicy = action.RetryPolicy,
            Memo = action.Memo,
            SearchAttributes = searchAttributes,
            Header = action.Header,
            UserMetadata = action.UserMetadata,
            Priority = action.Priority,
            Identity = "temporal-scheduler",
            RequestId = Guid.NewGuid().ToString(),
            WorkflowIdReusePolicy = WorkflowIdReusePolicy.AllowDuplicate,
            LastCompletionResult = entry.LastCompletionResult,
            ContinuedFailure = entry.LastFailure,
        };
        var result = new ScheduleActionResult
        {
            ScheduleTime = Timestamp.FromDateTimeOffset(nominal),
            ActualTime = Timestamp.FromDateTimeOffset(Now),
        };
        try
        {
            var started = _engine.Lifecycle.StartWorkflow(request);
            var execution = new WorkflowExecution { WorkflowId = workflowId, RunId = started.RunId };
            result.StartWorkflowResult = execution;
            result.StartWorkflowStatus = WorkflowExecutionStatus.Running;
            entry.Info.RunningWorkflows.Add(execution);
            entry.Info.ActionCount++;
            WatchClose(entry, execution);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // A start that fails (e.g. the id is still running from an earlier action) is logged, not retried, as in Temporal.
            ScheduleLog.ActionFailed(_logger, entry.ScheduleId, error);
            return;
        }
        entry.RecentActions.Add(result);
        while (entry.RecentActions.Count > RecentActionsKept)
        {
            entry.RecentActions.RemoveAt(0);
        }
    }

    private static Payload JsonPayload(string json, string type) => new()
    {
        Metadata = { ["encoding"] = ByteString.CopyFromUtf8("json/plain"), ["type"] = ByteString.CopyFromUtf8(type) },
        Data = ByteString.CopyFromUtf8(json),
    };

    /// <summary>Waits for the workflow (following retries and continue-as-new) to close, then runs what the buffer holds.</summary>
    private void WatchClose(ScheduleEntry entry, WorkflowExecution execution) =>
        _ = Task.Run(async () =>
        {
            var (status, close) = await WaitForCloseAsync(entry.Namespace, execution);
            lock (entry)
            {
                if (close?.WorkflowExecutionCompletedEventAttributes is { } completed)
                {
                    entry.LastCompletionResult = completed.Result;
                }
                else if (close?.WorkflowExecutionFailedEventAttributes is { } failed)
                {
                    entry.LastFailure = failed.Failure;
                }
                var index = entry.Info.RunningWorkflows.IndexOf(execution);
                if (index >= 0)
                {
                    entry.Info.RunningWorkflows.RemoveAt(index);
                }
                foreach (var recent in entry.RecentActions)
                {
                    if (recent.StartWorkflowResult?.Equals(execution) == true)
                    {
                        recent.StartWorkflowStatus = status;
                    }
                }
                if (entry.Deleted)
                {
                    return;
                }
                if (entry.Schedule.Policies.PauseOnFailure && status is WorkflowExecutionStatus.Failed or WorkflowExecutionStatus.TimedOut)
                {
                    // pause_on_failure: a run (after its retries) that failed or timed out pauses the schedule until unpaused.
                    entry.Schedule.State.Paused = true;
                    entry.Schedule.State.Notes = $"paused: workflow {execution.WorkflowId} {(status == WorkflowExecutionStatus.Failed ? "failed" : "timed out")}";
                    Arm(entry);
                }
                StartBuffered(entry);
                Save(entry);
            }
        });

    /// <summary>Buffered actions start once nothing runs, unless the schedule is paused (Unpause starts them).</summary>
    private void StartBuffered(ScheduleEntry entry)
    {
        while (!entry.Schedule.State.Paused && entry.Buffer.Count > 0 && entry.Info.RunningWorkflows.Count == 0)
        {
            Start(entry, entry.Buffer.Dequeue());
        }
    }

    private async Task<(WorkflowExecutionStatus Status, Temporalio.Api.History.V1.HistoryEvent? Close)> WaitForCloseAsync(string ns, WorkflowExecution execution)
    {
        var runId = execution.RunId;
        while (!_stopping.IsCancellationRequested)
        {
            GetWorkflowExecutionHistoryResponse page;
            try
            {
                page = await _engine.History.GetHistoryAsync(new GetWorkflowExecutionHistoryRequest
                {
                    Namespace = ns,
                    Execution = new WorkflowExecution { WorkflowId = execution.WorkflowId, RunId = runId },
                    HistoryEventFilterType = HistoryEventFilterType.CloseEvent,
                    WaitNewEvent = true,
                }, TimeSpan.FromSeconds(20), _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                // The run is gone (retention) or unreadable: treat it as closed so the schedule is not blocked forever.
                ScheduleLog.ActionFailed(_logger, execution.WorkflowId, error);
                return (WorkflowExecutionStatus.Unspecified, null);
            }
            if (page.History?.Events.Count > 0)
            {
                var close = page.History.Events[0];
                var next = close.AttributesCase switch
                {
                    Temporalio.Api.History.V1.HistoryEvent.AttributesOneofCase.WorkflowExecutionContinuedAsNewEventAttributes =>
                        close.WorkflowExecutionContinuedAsNewEventAttributes.NewExecutionRunId,
                    Temporalio.Api.History.V1.HistoryEvent.AttributesOneofCase.WorkflowExecutionCompletedEventAttributes =>
                        close.WorkflowExecutionCompletedEventAttributes.NewExecutionRunId,
                    Temporalio.Api.History.V1.HistoryEvent.AttributesOneofCase.WorkflowExecutionFailedEventAttributes =>
                        close.WorkflowExecutionFailedEventAttributes.NewExecutionRunId,
                    Temporalio.Api.History.V1.HistoryEvent.AttributesOneofCase.WorkflowExecutionTimedOutEventAttributes =>
                        close.WorkflowExecutionTimedOutEventAttributes.NewExecutionRunId,
                    _ => null,
                };
                if (!string.IsNullOrEmpty(next))
                {
                    runId = next;
                    continue;
                }
                return (close.EventType switch
                {
                    EventType.WorkflowExecutionCompleted => WorkflowExecutionStatus.Completed,
                    EventType.WorkflowExecutionFailed => WorkflowExecutionStatus.Failed,
                    EventType.WorkflowExecutionCanceled => WorkflowExecutionStatus.Canceled,
                    EventType.WorkflowExecutionTerminated => WorkflowExecutionStatus.Terminated,
                    EventType.WorkflowExecutionTimedOut => WorkflowExecutionStatus.TimedOut,
                    _ => WorkflowExecutionStatus.Unspecified,
                }, close);
            }
        }
        return (WorkflowExecutionStatus.Unspecified, null);
    }
}
