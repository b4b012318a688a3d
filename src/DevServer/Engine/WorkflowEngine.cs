using AgentOrchestrator.DevServer.Engine.State;
using AgentOrchestrator.DevServer.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// The Temporal server state machine, composed of parts that each own one concern (and their state): workflow
/// tasks, commands, activities, timers, the run lifecycle, signals, queries, updates, children, history and
/// visibility reads. Each workflow id has its own lock (<see cref="WorkflowChain"/>, taken only through
/// <see cref="ExecutionRegistry"/>); work that touches another workflow runs after the lock is released, as
/// Temporal's transfer tasks do. The gRPC endpoint calls the parts directly.
/// </summary>
internal sealed class WorkflowEngine
{
    private readonly IWorkflowStore _store;

    public WorkflowEngine(IOptions<DevServerOptions> options, TimeProvider time, ILogger<WorkflowEngine> logger, DevServerMetrics metrics, IWorkflowStore store)
    {
        _store = store;
        Context = new EngineContext(options.Value, time, logger, metrics);
        Registry = new ExecutionRegistry(Context, store);
        WorkflowTasks = new WorkflowTaskDispatcher(Context, Registry);
        Queries = new QueryDispatcher(Registry, WorkflowTasks);
        Lifecycle = new RunLifecycle(Context, Registry, WorkflowTasks, Queries);
        Resets = new WorkflowResets(Context, Registry, WorkflowTasks, Lifecycle);
        Signals = new SignalDelivery(Context, Registry, WorkflowTasks, Lifecycle);
        Updates = new UpdateCoordinator(Context, Registry, WorkflowTasks, Lifecycle);
        Timers = new UserTimers(Context, Registry, WorkflowTasks);
        Activities = new ActivityDispatcher(Context, Registry, WorkflowTasks);
        Children = new ChildWorkflows(Context, Registry, WorkflowTasks, Lifecycle);
        Lifecycle.AddCloseObserver(Children);
        ExternalRequests = new ExternalWorkflowRequests(Context, Registry, WorkflowTasks, Lifecycle);
        Commands = new CommandProcessor(Context, Registry, WorkflowTasks, Activities, Timers, Lifecycle, Children, ExternalRequests, Updates, Queries);
        History = new HistoryReader(Context, Registry);
        Visibility = new VisibilityReader(Context, Registry);
        StoreLog.Using(logger, store.Description);
        EngineRecovery.Restore(this, store);
    }

    public EngineContext Context { get; }

    public DevServerOptions Options => Context.Options;

    public ExecutionRegistry Registry { get; }

    public WorkflowTaskDispatcher WorkflowTasks { get; }

    public CommandProcessor Commands { get; }

    public ActivityDispatcher Activities { get; }

    public UserTimers Timers { get; }

    public RunLifecycle Lifecycle { get; }

    public WorkflowResets Resets { get; }

    public SignalDelivery Signals { get; }

    public QueryDispatcher Queries { get; }

    public UpdateCoordinator Updates { get; }

    public ChildWorkflows Children { get; }

    public ExternalWorkflowRequests ExternalRequests { get; }

    public HistoryReader History { get; }

    public VisibilityReader Visibility { get; }

    public NamespaceState GetNamespace(string? name) => Registry.GetNamespace(name);

    /// <summary>Completes once every change made so far is stored (at once in memory).</summary>
    public Task WhenStoredAsync() => _store.WhenStoredAsync();
}
