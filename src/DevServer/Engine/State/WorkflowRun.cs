using AgentOrchestrator.DevServer.Visibility;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine.State;

/// <summary>
/// The mutable state of one workflow run. Every member is guarded by the owning
/// <see cref="WorkflowChain"/>'s lock.
/// </summary>
internal sealed class WorkflowRun(WorkflowChain chain, string runId) : IVisibilityRecord
{
    public WorkflowChain Chain { get; } = chain;

    public string RunId { get; } = runId;

    public string WorkflowId => Chain.WorkflowId;

    public string NamespaceName => Chain.Namespace.Name;

    public required WorkflowExecutionStartedEventAttributes StartAttributes { get; init; }

    public required string StartRequestId { get; init; }

    public string WorkflowType => StartAttributes.WorkflowType.Name;

    public string TaskQueue => StartAttributes.TaskQueue.Name;

    public TimeSpan WorkflowTaskTimeout => StartAttributes.WorkflowTaskTimeout.ToTimeSpan();

    public List<HistoryEvent> History { get; } = [];

    /// <summary>Events that arrived while a workflow task was started; written when it closes.</summary>
    public List<HistoryEvent> Buffer { get; } = [];

    public WorkflowExecutionStatus Status { get; set; } = WorkflowExecutionStatus.Running;

    public bool IsOpen => Status == WorkflowExecutionStatus.Running;

    public DateTime StartTime { get; init; }

    public DateTime ExecutionTime { get; init; }

    public DateTime? CloseTime { get; set; }

    public string? ParentWorkflowId => StartAttributes.ParentWorkflowExecution?.WorkflowId;

    public string? ParentRunId => StartAttributes.ParentWorkflowExecution?.RunId;

    public long HistoryLength => History.Count;

    public Dictionary<string, Payload> SearchAttributeValues { get; } = new(StringComparer.Ordinal);

    IReadOnlyDictionary<string, Payload> IVisibilityRecord.SearchAttributes => SearchAttributeValues;

    public Dictionary<string, Payload> MemoValues { get; } = new(StringComparer.Ordinal);

    public Priority? Priority => StartAttributes.Priority;

    // Workflow task state.
    public WorkflowTaskState Wft { get; set; }

    public long WftScheduledEventId { get; set; }

    public long WftStartedEventId { get; set; }

    public int WftAttempt { get; set; } = 1;

    public DateTime WftScheduledTime { get; set; }

    /// <summary>When the workflow task in flight started (its timeout counts from here, also after a restart).</summary>
    public DateTime WftStartedTime { get; set; }

    public ITimer? WftTimeoutTimer { get; set; }

    /// <summary>The sticky queue of the worker that has this run cached, if any.</summary>
    public string? StickyQueue { get; set; }

    public TimeSpan StickyScheduleToStart { get; set; }

    public ITimer? StickyTimer { get; set; }

    /// <summary>WorkflowTaskStarted id of the last completed workflow task (0 if none).</summary>
    public long PreviousStartedEventId { get; set; }

    public bool CancelRequested { get; set; }

    public HashSet<string> SignalRequestIds { get; } = new(StringComparer.Ordinal);

    public Dictionary<long, ActivityState> Activities { get; } = [];

    public Dictionary<string, UserTimer> Timers { get; } = new(StringComparer.Ordinal);

    public Dictionary<long, ChildState> Children { get; } = [];

    /// <summary>Updates by update id, in admission order.</summary>
    public Dictionary<string, UpdateState> Updates { get; } = new(StringComparer.Ordinal);

    /// <summary>Consistent queries to put on the next workflow task that starts.</summary>
    public List<PendingQuery> QueriesForNextTask { get; } = [];

    /// <summary>Queries on the workflow task in flight, answered in its completion.</summary>
    public List<PendingQuery> QueriesInFlight { get; } = [];

    public List<ITimer> RunTimers { get; } = [];

    /// <summary>What a durable store last recorded of this run (null in memory).</summary>
    public Storage.RunStorageMark? StorageMark { get; set; }

    /// <summary>Signals the end of every history long poll when an event is written.</summary>
    private TaskCompletionSource _historyChanged = NewSignal();

    public Task HistoryChanged => _historyChanged.Task;

    public void NotifyHistoryChanged()
    {
        var previous = _historyChanged;
        _historyChanged = NewSignal();
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Writes an event with the next id; times never go backwards.</summary>
    public HistoryEvent Append(HistoryEvent historyEvent)
    {
        historyEvent.EventId = History.Count + 1;
        if (History.Count > 0 && historyEvent.EventTime.CompareTo(History[^1].EventTime) < 0)
        {
            historyEvent.EventTime = History[^1].EventTime;
        }
        History.Add(historyEvent);
        return historyEvent;
    }

    /// <summary>Applies upserted search attributes; .NET unsets one by sending a binary/null payload.</summary>
    public void MergeSearchAttributes(SearchAttributes searchAttributes) => Merge(SearchAttributeValues, searchAttributes.IndexedFields);

    /// <summary>Applies an upserted memo; a key upserted as null (a binary/null payload) is removed, as Temporal does.</summary>
    public void MergeMemo(Memo memo) => Merge(MemoValues, memo.Fields);

    private static void Merge(Dictionary<string, Payload> values, IDictionary<string, Payload> changes)
    {
        foreach (var (key, value) in changes)
        {
            if (value.Metadata.TryGetValue("encoding", out var encoding) && encoding.ToStringUtf8() == "binary/null")
            {
                values.Remove(key);
            }
            else
            {
                values[key] = value;
            }
        }
    }

    /// <summary>The run's search attributes now (a retry or continue-as-new carries them over).</summary>
    public SearchAttributes CurrentSearchAttributes()
    {
        var searchAttributes = new SearchAttributes();
        foreach (var (key, value) in SearchAttributeValues)
        {
            searchAttributes.IndexedFields[key] = value;
        }
        return searchAttributes;
    }

    public HistoryEvent? CloseEvent => !IsOpen && History.Count > 0 ? History[^1] : null;
}
