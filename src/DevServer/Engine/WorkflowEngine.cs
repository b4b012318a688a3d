using System.Collections.Concurrent;
using AgentOrchestrator.DevServer.Grpc;
using AgentOrchestrator.DevServer.Matching;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// The in-memory Temporal server state machine: workflow runs, their histories, workflow and activity
/// tasks, timers, signals, queries, updates and children. Each workflow id has its own lock
/// (<see cref="WorkflowChain"/>); work that touches another workflow (a child, an external signal,
/// a parent notification) runs after the lock is released, as Temporal's transfer tasks do.
/// </summary>
internal sealed partial class WorkflowEngine
{
    private readonly ConcurrentDictionary<string, NamespaceState> _namespaces = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ILogger<WorkflowEngine> _logger;
    private readonly DevServerMetrics _metrics;

    public WorkflowEngine(IOptions<DevServerOptions> options, TimeProvider time, ILogger<WorkflowEngine> logger, DevServerMetrics metrics)
    {
        Options = options.Value;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        GetNamespace(Options.Namespace);
    }

    public DevServerOptions Options { get; }

    public NamespaceState GetNamespace(string? name) =>
        _namespaces.GetOrAdd(string.IsNullOrEmpty(name) ? Options.Namespace : name, static n => new NamespaceState(n));

    public IEnumerable<NamespaceState> Namespaces => _namespaces.Values;

    private DateTimeOffset Now => _time.GetUtcNow();

    private HistoryEvent NewEvent(EventType type) => new() { EventType = type, EventTime = Timestamp.FromDateTimeOffset(Now) };

    /// <summary>Runs cross-workflow work after the current lock is released.</summary>
    private static void Defer(Action action) => ThreadPool.UnsafeQueueUserWorkItem(static a => a(), action, preferLocal: false);

    /// <summary>Timers always call back on the thread pool, never inline under a lock.</summary>
    private ITimer StartTimer(TimeSpan due, Action callback)
    {
        if (due < TimeSpan.Zero)
        {
            due = TimeSpan.Zero;
        }
        return _time.CreateTimer(static s => Defer((Action)s!), callback, due, Timeout.InfiniteTimeSpan);
    }

    private WorkflowChain? FindChain(string ns, string workflowId) =>
        GetNamespace(ns).Chains.TryGetValue(workflowId, out var chain) ? chain : null;

    /// <summary>Finds a run (the current one when run id is empty) and runs <paramref name="action"/> under its lock.</summary>
    private T WithRun<T>(string ns, WorkflowExecution? execution, Func<WorkflowRun, T> action)
    {
        if (execution is null || string.IsNullOrEmpty(execution.WorkflowId))
        {
            throw GrpcErrors.InvalidArgument("workflow execution with a workflow id is required");
        }
        var chain = FindChain(ns, execution.WorkflowId) ?? throw GrpcErrors.WorkflowNotFound(execution.WorkflowId, execution.RunId);
        lock (chain)
        {
            var run = chain.Find(execution.RunId) ?? throw GrpcErrors.WorkflowNotFound(execution.WorkflowId, execution.RunId);
            return action(run);
        }
    }

    /// <summary>
    /// Adds an event that did not come from the running workflow task's completion. While a workflow
    /// task is started it waits in the buffer (writing it in the middle of the task's sequence breaks
    /// replay); otherwise it is written and, if needed, a workflow task is scheduled.
    /// </summary>
    private void AddExternalEvent(WorkflowRun run, HistoryEvent historyEvent, bool schedulesWorkflowTask = true)
    {
        if (run.Wft == WorkflowTaskState.Started)
        {
            run.Buffer.Add(historyEvent);
            return;
        }
        run.Append(historyEvent);
        if (schedulesWorkflowTask && run.Wft == WorkflowTaskState.None)
        {
            ScheduleWorkflowTask(run);
        }
        run.NotifyHistoryChanged();
    }

    private static bool FlushBuffer(WorkflowRun run)
    {
        if (run.Buffer.Count == 0)
        {
            return false;
        }
        long lastStartedEventId = 0;
        foreach (var buffered in run.Buffer)
        {
            if (HasPendingStartedEventId(buffered))
            {
                SetActivityStartedEventId(buffered, lastStartedEventId);
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

    private void ScheduleWorkflowTask(WorkflowRun run)
    {
        if (!run.IsOpen || run.Wft != WorkflowTaskState.None)
        {
            return;
        }
        var scheduled = NewEvent(EventType.WorkflowTaskScheduled);
        scheduled.WorkflowTaskScheduledEventAttributes = new WorkflowTaskScheduledEventAttributes
        {
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = run.TaskQueue, Kind = TaskQueueKind.Normal },
            StartToCloseTimeout = Duration.FromTimeSpan(run.WorkflowTaskTimeout),
            Attempt = run.WftAttempt,
        };
        run.Append(scheduled);
        run.Wft = WorkflowTaskState.Scheduled;
        run.WftScheduledEventId = scheduled.EventId;
        run.WftScheduledTime = Now.UtcDateTime;
        var ns = run.Chain.Namespace;
        if (run.StickyQueue is { } sticky && !ns.ClosedStickyQueues.ContainsKey(sticky))
        {
            ns.WorkflowQueue(sticky).Add(new WorkflowTaskDispatch(this, run, scheduled.EventId, run.WftAttempt, Sticky: true));
            var attempt = run.WftAttempt;
            // Not taken in time (the worker is gone or busy): the task moves to the normal queue with full history.
            run.StickyTimer?.Dispose();
            run.StickyTimer = StartTimer(run.StickyScheduleToStart, () => WithLockedRun(run, r => MoveToNormalQueue(r, scheduled.EventId, attempt)));
            return;
        }
        run.StickyQueue = null;
        ns.WorkflowQueue(run.TaskQueue).Add(new WorkflowTaskDispatch(this, run, scheduled.EventId, run.WftAttempt, Sticky: false));
    }

    private void MoveToNormalQueue(WorkflowRun run, long scheduledEventId, int attempt)
    {
        if (run.IsOpen && run.Wft == WorkflowTaskState.Scheduled && run.WftScheduledEventId == scheduledEventId && run.WftAttempt == attempt &&
            run.StickyQueue is not null)
        {
            run.StickyQueue = null;
            run.Chain.Namespace.WorkflowQueue(run.TaskQueue).Add(new WorkflowTaskDispatch(this, run, scheduledEventId, attempt, Sticky: false));
        }
    }

    /// <summary>A worker that shuts down hands its sticky tasks back at once instead of after the sticky timeout.</summary>
    public void CloseStickyQueue(string ns, string stickyQueue)
    {
        var state = GetNamespace(ns);
        state.ClosedStickyQueues[stickyQueue] = true;
        var queue = state.TryRemoveWorkflowQueue(stickyQueue);
        if (queue is null)
        {
            return;
        }
        foreach (var task in queue.DrainBacklog())
        {
            if (task is WorkflowTaskDispatch dispatch)
            {
                WithLockedRun(dispatch.Run, r => MoveToNormalQueue(r, dispatch.ScheduledEventId, dispatch.Attempt));
            }
        }
    }

    /// <summary>Closes a run: stops its timers, ends waiting updates and queries, notifies parent and children.</summary>
    private void CloseRun(WorkflowRun run, WorkflowExecutionStatus status, HistoryEvent closeEvent, bool chainContinues)
    {
        run.Append(closeEvent);
        run.Status = status;
        run.CloseTime = Now.UtcDateTime;
        run.Wft = WorkflowTaskState.None;
        run.WftTimeoutTimer?.Dispose();
        run.StickyTimer?.Dispose();
        foreach (var timer in run.RunTimers)
        {
            timer.Dispose();
        }
        foreach (var timer in run.Timers.Values)
        {
            timer.Timer.Dispose();
        }
        run.Timers.Clear();
        foreach (var activity in run.Activities.Values)
        {
            activity.CancelAttemptTimers();
            activity.ScheduleToCloseTimer?.Dispose();
        }
        run.Activities.Clear();
        AbortOpenUpdates(run, chainContinues);
        // Queries that were waiting for a workflow task are answered from the closed run's history.
        foreach (var query in run.QueriesForNextTask.Concat(run.QueriesInFlight))
        {
            DispatchLegacyQuery(run, query);
        }
        run.QueriesForNextTask.Clear();
        run.QueriesInFlight.Clear();
        ApplyParentClosePolicy(run);
        if (!chainContinues)
        {
            NotifyParentOfClose(run, closeEvent);
        }
        run.NotifyHistoryChanged();
        _metrics.WorkflowClosed(status);
        EngineLog.RunClosed(_logger, run.WorkflowId, run.RunId, status);
        var retention = Options.Retention;
        StartTimer(retention, () => DropRun(run));
    }

    private static void DropRun(WorkflowRun run)
    {
        var chain = run.Chain;
        lock (chain)
        {
            chain.Runs.Remove(run);
            if (chain.Runs.Count == 0)
            {
                chain.Namespace.Chains.TryRemove(new KeyValuePair<string, WorkflowChain>(chain.WorkflowId, chain));
            }
        }
    }

    private sealed class WorkflowTaskDispatch(WorkflowEngine engine, WorkflowRun run, long scheduledEventId, int attempt, bool Sticky)
        : IDispatchable<PollWorkflowTaskQueueResponse>
    {
        public WorkflowRun Run => run;

        public long ScheduledEventId => scheduledEventId;

        public int Attempt => attempt;

        public DispatchKey Key { get; } = DispatchKey.From(run.Priority);

        public PollWorkflowTaskQueueResponse? TryStart(string identity) => engine.TryStartWorkflowTask(run, scheduledEventId, attempt, identity, Sticky);
    }
}
