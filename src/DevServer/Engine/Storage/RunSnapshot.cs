using System.Text.Json;
using AgentOrchestrator.DevServer.Engine.State;
using Google.Protobuf;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Update.V1;

namespace AgentOrchestrator.DevServer.Engine.Storage;

/// <summary>
/// The stored form of a run's mutable state (everything but its history, which is stored event by event):
/// workflow task, pending activities, timers, children and updates, signal request ids, search attributes and memo,
/// the event buffer. Protobuf values are kept as their bytes; what history already holds (start and activity
/// attributes) is taken from it on restore. Sticky queues and queries are deliberately not stored.
/// </summary>
internal sealed class RunSnapshot
{
    public string StartRequestId { get; set; } = string.Empty;

    public int Status { get; set; }

    public DateTime StartTime { get; set; }

    public DateTime ExecutionTime { get; set; }

    public DateTime? CloseTime { get; set; }

    public bool CancelRequested { get; set; }

    public int Wft { get; set; }

    public long WftScheduledEventId { get; set; }

    public long WftStartedEventId { get; set; }

    public int WftAttempt { get; set; }

    public DateTime WftScheduledTime { get; set; }

    public DateTime WftStartedTime { get; set; }

    public long PreviousStartedEventId { get; set; }

    public List<string> SignalRequestIds { get; set; } = [];

    public Dictionary<string, byte[]> SearchAttributes { get; set; } = [];

    public Dictionary<string, byte[]> Memo { get; set; } = [];

    public List<byte[]> Buffer { get; set; } = [];

    public List<ActivityRecord> Activities { get; set; } = [];

    public List<TimerRecord> Timers { get; set; } = [];

    public List<ChildRecord> Children { get; set; } = [];

    public List<UpdateRecord> Updates { get; set; } = [];

    public sealed class ActivityRecord
    {
        public long ScheduledEventId { get; set; }

        public DateTime FirstScheduledTime { get; set; }

        public string TaskQueue { get; set; } = string.Empty;

        public int Attempt { get; set; }

        public int Phase { get; set; }

        public DateTime CurrentAttemptScheduledTime { get; set; }

        public long AttemptScheduleToStartTicks { get; set; }

        public DateTime StartedTime { get; set; }

        public DateTime? LastHeartbeatTime { get; set; }

        public DateTime RetryTime { get; set; }

        public string? StartedIdentity { get; set; }

        public string StartedRequestId { get; set; } = string.Empty;

        public byte[]? HeartbeatDetails { get; set; }

        public byte[]? LastFailure { get; set; }

        public bool CancelRequested { get; set; }

        /// <summary>Added after the first schema: absent in an older database's JSON, so false (nothing was paused then).</summary>
        public bool Paused { get; set; }

        public bool ResetRequested { get; set; }

        public long CancelRequestedEventId { get; set; }

        public DateTime? Expiration { get; set; }
    }

    public sealed class TimerRecord
    {
        public string TimerId { get; set; } = string.Empty;

        public long StartedEventId { get; set; }

        public DateTime FireTime { get; set; }
    }

    public sealed class ChildRecord
    {
        public long InitiatedEventId { get; set; }

        public string Namespace { get; set; } = string.Empty;

        public string WorkflowId { get; set; } = string.Empty;

        public string WorkflowType { get; set; } = string.Empty;

        public int ParentClosePolicy { get; set; }

        public bool Started { get; set; }

        public string? RunId { get; set; }

        public byte[]? PendingClose { get; set; }
    }

    public sealed class UpdateRecord
    {
        public string UpdateId { get; set; } = string.Empty;

        public byte[] Request { get; set; } = [];

        public int Phase { get; set; }

        public long AcceptedEventId { get; set; }

        public byte[]? Outcome { get; set; }
    }

    /// <summary>The run's state as stored bytes (taken under the run's lock).</summary>
    public static byte[] Serialize(WorkflowRun run)
    {
        var snapshot = new RunSnapshot
        {
            StartRequestId = run.StartRequestId,
            Status = (int)run.Status,
            StartTime = run.StartTime,
            ExecutionTime = run.ExecutionTime,
            CloseTime = run.CloseTime,
            CancelRequested = run.CancelRequested,
            Wft = (int)run.Wft,
            WftScheduledEventId = run.WftScheduledEventId,
            WftStartedEventId = run.WftStartedEventId,
            WftAttempt = run.WftAttempt,
            WftScheduledTime = run.WftScheduledTime,
            WftStartedTime = run.WftStartedTime,
            PreviousStartedEventId = run.PreviousStartedEventId,
            SignalRequestIds = [.. run.SignalRequestIds],
        };
        foreach (var (key, value) in run.SearchAttributeValues)
        {
            snapshot.SearchAttributes[key] = value.ToByteArray();
        }
        foreach (var (key, value) in run.MemoValues)
        {
            snapshot.Memo[key] = value.ToByteArray();
        }
        foreach (var buffered in run.Buffer)
        {
            snapshot.Buffer.Add(buffered.ToByteArray());
        }
        foreach (var activity in run.Activities.Values)
        {
            snapshot.Activities.Add(new ActivityRecord
            {
                ScheduledEventId = activity.ScheduledEventId,
                FirstScheduledTime = activity.FirstScheduledTime,
                TaskQueue = activity.TaskQueue,
                Attempt = activity.Attempt,
                Phase = (int)activity.Phase,
                CurrentAttemptScheduledTime = activity.CurrentAttemptScheduledTime,
                AttemptScheduleToStartTicks = activity.AttemptScheduleToStart.Ticks,
                StartedTime = activity.StartedTime,
                LastHeartbeatTime = activity.LastHeartbeatTime,
                RetryTime = activity.RetryTime,
                StartedIdentity = activity.StartedIdentity,
                StartedRequestId = activity.StartedRequestId,
                HeartbeatDetails = activity.HeartbeatDetails?.ToByteArray(),
                LastFailure = activity.LastFailure?.ToByteArray(),
                CancelRequested = activity.CancelRequested,
                Paused = activity.Paused,
                ResetRequested = activity.ResetRequested,
                CancelRequestedEventId = activity.CancelRequestedEventId,
                Expiration = activity.Expiration,
            });
        }
        foreach (var timer in run.Timers.Values)
        {
            snapshot.Timers.Add(new TimerRecord { TimerId = timer.TimerId, StartedEventId = timer.StartedEventId, FireTime = timer.FireTime });
        }
        foreach (var child in run.Children.Values)
        {
            snapshot.Children.Add(new ChildRecord
            {
                InitiatedEventId = child.InitiatedEventId,
                Namespace = child.Namespace,
                WorkflowId = child.WorkflowId,
                WorkflowType = child.WorkflowType,
                ParentClosePolicy = (int)child.ParentClosePolicy,
                Started = child.StartedEvent is not null,
                RunId = child.RunId,
                PendingClose = child.PendingClose?.ToByteArray(),
            });
        }
        foreach (var update in run.Updates.Values)
        {
            snapshot.Updates.Add(new UpdateRecord
            {
                UpdateId = update.UpdateId,
                Request = update.Request.ToByteArray(),
                Phase = (int)update.Phase,
                AcceptedEventId = update.AcceptedEventId,
                Outcome = update.Outcome?.ToByteArray(),
            });
        }
        return JsonSerializer.SerializeToUtf8Bytes(snapshot, StorageJsonContext.Default.RunSnapshot);
    }

    /// <summary>Rebuilds a run of <paramref name="chain"/> from what was stored; its timers and queues are re-armed by the engine.</summary>
    public static WorkflowRun Restore(WorkflowChain chain, StoredRun stored)
    {
        if (stored.History.Count == 0 || stored.History[0].WorkflowExecutionStartedEventAttributes is not { } startAttributes)
        {
            throw new InvalidDataException($"run {stored.RunId} has no WorkflowExecutionStarted event");
        }
        var snapshot = JsonSerializer.Deserialize(stored.State, StorageJsonContext.Default.RunSnapshot)
            ?? throw new InvalidDataException($"run {stored.RunId} has no state");
        var run = new WorkflowRun(chain, stored.RunId)
        {
            StartAttributes = startAttributes,
            StartRequestId = snapshot.StartRequestId,
            StartTime = snapshot.StartTime,
            ExecutionTime = snapshot.ExecutionTime,
            Status = (WorkflowExecutionStatus)snapshot.Status,
            CloseTime = snapshot.CloseTime,
            CancelRequested = snapshot.CancelRequested,
            Wft = (WorkflowTaskState)snapshot.Wft,
            WftScheduledEventId = snapshot.WftScheduledEventId,
            WftStartedEventId = snapshot.WftStartedEventId,
            WftAttempt = snapshot.WftAttempt,
            WftScheduledTime = snapshot.WftScheduledTime,
            WftStartedTime = snapshot.WftStartedTime,
            PreviousStartedEventId = snapshot.PreviousStartedEventId,
        };
        run.History.AddRange(stored.History);
        run.SignalRequestIds.UnionWith(snapshot.SignalRequestIds);
        foreach (var (key, value) in snapshot.SearchAttributes)
        {
            run.SearchAttributeValues[key] = Payload.Parser.ParseFrom(value);
        }
        foreach (var (key, value) in snapshot.Memo)
        {
            run.MemoValues[key] = Payload.Parser.ParseFrom(value);
        }
        foreach (var buffered in snapshot.Buffer)
        {
            run.Buffer.Add(HistoryEvent.Parser.ParseFrom(buffered));
        }
        foreach (var record in snapshot.Activities)
        {
            var scheduled = EventAt(run, record.ScheduledEventId).ActivityTaskScheduledEventAttributes
                ?? throw new InvalidDataException($"run {run.RunId}: event {record.ScheduledEventId} is not an ActivityTaskScheduled event");
            run.Activities[record.ScheduledEventId] = new ActivityState
            {
                ScheduledEventId = record.ScheduledEventId,
                Attributes = scheduled,
                FirstScheduledTime = record.FirstScheduledTime,
                TaskQueue = record.TaskQueue,
                Attempt = record.Attempt,
                Phase = (ActivityPhase)record.Phase,
                CurrentAttemptScheduledTime = record.CurrentAttemptScheduledTime,
                AttemptScheduleToStart = TimeSpan.FromTicks(record.AttemptScheduleToStartTicks),
                StartedTime = record.StartedTime,
                LastHeartbeatTime = record.LastHeartbeatTime,
                RetryTime = record.RetryTime,
                StartedIdentity = record.StartedIdentity,
                StartedRequestId = record.StartedRequestId,
                HeartbeatDetails = record.HeartbeatDetails is { } details ? Payloads.Parser.ParseFrom(details) : null,
                LastFailure = record.LastFailure is { } failure ? Failure.Parser.ParseFrom(failure) : null,
                CancelRequested = record.CancelRequested,
                Paused = record.Paused,
                ResetRequested = record.ResetRequested,
                CancelRequestedEventId = record.CancelRequestedEventId,
                Expiration = record.Expiration,
            };
        }
        foreach (var record in snapshot.Timers)
        {
            run.Timers[record.TimerId] = new UserTimer { TimerId = record.TimerId, StartedEventId = record.StartedEventId, FireTime = record.FireTime };
        }
        foreach (var record in snapshot.Children)
        {
            run.Children[record.InitiatedEventId] = new ChildState
            {
                InitiatedEventId = record.InitiatedEventId,
                Namespace = record.Namespace,
                WorkflowId = record.WorkflowId,
                WorkflowType = record.WorkflowType,
                ParentClosePolicy = (ParentClosePolicy)record.ParentClosePolicy,
                RunId = record.RunId,
                StartedEvent = record.Started ? ChildStartedEvent(run, record.InitiatedEventId) : null,
                PendingClose = record.PendingClose is { } close ? HistoryEvent.Parser.ParseFrom(close) : null,
            };
        }
        foreach (var record in snapshot.Updates)
        {
            run.Updates[record.UpdateId] = new UpdateState
            {
                UpdateId = record.UpdateId,
                Request = Request.Parser.ParseFrom(record.Request),
                Phase = (UpdatePhase)record.Phase,
                AcceptedEventId = record.AcceptedEventId,
                Outcome = record.Outcome is { } outcome ? Outcome.Parser.ParseFrom(outcome) : null,
            };
        }
        run.StorageMark = new RunStorageMark { EventCount = run.History.Count, State = stored.State, Closed = !run.IsOpen };
        return run;
    }

    private static HistoryEvent EventAt(WorkflowRun run, long eventId) =>
        eventId >= 1 && eventId <= run.History.Count ? run.History[(int)eventId - 1]
            : throw new InvalidDataException($"run {run.RunId} has no event {eventId}");

    /// <summary>The parent's ChildWorkflowExecutionStarted event (written, or still waiting in the buffer).</summary>
    private static HistoryEvent ChildStartedEvent(WorkflowRun run, long initiatedEventId) =>
        run.History.Concat(run.Buffer).LastOrDefault(e => e.EventType == EventType.ChildWorkflowExecutionStarted &&
            e.ChildWorkflowExecutionStartedEventAttributes.InitiatedEventId == initiatedEventId)
        ?? throw new InvalidDataException($"run {run.RunId}: child {initiatedEventId} is started but has no ChildWorkflowExecutionStarted event");
}
