using System.Collections.Concurrent;
using AgentOrchestrator.DevServer.Engine.Errors;
using AgentOrchestrator.DevServer.Engine.State;
using AgentOrchestrator.DevServer.Engine.Storage;
using Google.Protobuf;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Namespace.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// Namespaces and their workflow chains, and the only way to lock one: every section that changes a chain ends
/// by handing it to the store (<see cref="IWorkflowStore.Capture"/>), so no change escapes storage.
/// </summary>
internal sealed class ExecutionRegistry
{
    public const string NamespaceRecordKind = "namespace";

    private readonly ConcurrentDictionary<string, NamespaceState> _namespaces = new(StringComparer.Ordinal);
    private readonly EngineContext _context;
    private readonly IWorkflowStore _store;

    public ExecutionRegistry(EngineContext context, IWorkflowStore store)
    {
        _context = context;
        _store = store;
        foreach (var (name, value) in store.LoadRecords(NamespaceRecordKind))
        {
            // The record is the namespace's full description (Namespaces/NamespaceRegistry keeps its registration there).
            var info = DescribeNamespaceResponse.Parser.ParseFrom(value).NamespaceInfo;
            _namespaces[name] = new NamespaceState(name, info.Id);
        }
        GetNamespace(context.Options.Namespace);
    }

    public IWorkflowStore Store => _store;

    public IEnumerable<NamespaceState> Namespaces => _namespaces.Values;

    /// <summary>A namespace by name (the default one for an empty name), created on first use.</summary>
    public NamespaceState GetNamespace(string? name)
    {
        name = string.IsNullOrEmpty(name) ? _context.Options.Namespace : name;
        if (_namespaces.TryGetValue(name, out var existing))
        {
            return existing;
        }
        var created = new NamespaceState(name, Guid.NewGuid().ToString());
        var ns = _namespaces.GetOrAdd(name, created);
        if (ReferenceEquals(ns, created))
        {
            _store.PutRecord(NamespaceRecordKind, name, new DescribeNamespaceResponse { NamespaceInfo = new NamespaceInfo { Name = name, Id = ns.Id } }.ToByteArray());
        }
        return ns;
    }

    public WorkflowChain? FindChain(string ns, string workflowId) =>
        GetNamespace(ns).Chains.TryGetValue(workflowId, out var chain) ? chain : null;

    /// <summary>Runs <paramref name="action"/> under the lock of the chain for a workflow id, creating it if needed.</summary>
    public T WithChain<T>(string ns, string workflowId, Func<WorkflowChain, T> action)
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
                    try
                    {
                        return action(chain);
                    }
                    finally
                    {
                        _store.Capture(chain);
                    }
                }
            }
        }
    }

    /// <summary>Finds a run (the current one when run id is empty) and changes it under its chain's lock.</summary>
    public T WithRun<T>(string ns, WorkflowExecution? execution, Func<WorkflowRun, T> action) => OnRun(ns, execution, action, capture: true);

    /// <summary>Like <see cref="WithRun{T}"/> for a section that only reads.</summary>
    public T ReadRun<T>(string ns, WorkflowExecution? execution, Func<WorkflowRun, T> action) => OnRun(ns, execution, action, capture: false);

    private T OnRun<T>(string ns, WorkflowExecution? execution, Func<WorkflowRun, T> action, bool capture)
    {
        if (execution is null || string.IsNullOrEmpty(execution.WorkflowId))
        {
            throw new InvalidRequestException("workflow execution with a workflow id is required");
        }
        var chain = FindChain(ns, execution.WorkflowId) ?? throw NotFoundException.Workflow(execution.WorkflowId, execution.RunId);
        lock (chain)
        {
            try
            {
                var run = chain.Find(execution.RunId) ?? throw NotFoundException.Workflow(execution.WorkflowId, execution.RunId);
                return action(run);
            }
            finally
            {
                if (capture)
                {
                    _store.Capture(chain);
                }
            }
        }
    }

    /// <summary>Changes a run under its chain's lock (timer and deferred callbacks).</summary>
    public void WithLockedRun(WorkflowRun run, Action<WorkflowRun> action)
    {
        lock (run.Chain)
        {
            try
            {
                action(run);
            }
            finally
            {
                _store.Capture(run.Chain);
            }
        }
    }

    /// <summary>Changes a run under its chain's lock and returns what <paramref name="action"/> made of it.</summary>
    public T WithLockedRun<T>(WorkflowRun run, Func<WorkflowRun, T> action)
    {
        lock (run.Chain)
        {
            try
            {
                return action(run);
            }
            finally
            {
                _store.Capture(run.Chain);
            }
        }
    }

    /// <summary>Changes the run a task token names under its chain's lock; NOT_FOUND when it is gone.</summary>
    public T WithTaskRun<T>(TaskToken token, Func<WorkflowRun, T> action)
    {
        var chain = FindChain(token.Namespace, token.WorkflowId) ?? throw new NotFoundException("workflow execution not found");
        lock (chain)
        {
            try
            {
                var run = chain.Find(token.RunId) ?? throw new NotFoundException("workflow execution not found");
                return action(run);
            }
            finally
            {
                _store.Capture(chain);
            }
        }
    }

    /// <summary>Runs <paramref name="action"/> on another workflow's run under its lock; false when there is no such run.</summary>
    public bool WithExternalTarget(string ns, WorkflowExecution execution, Func<WorkflowRun, bool> action)
    {
        var chain = FindChain(ns, execution.WorkflowId);
        if (chain is null)
        {
            return false;
        }
        lock (chain)
        {
            try
            {
                var target = chain.Find(execution.RunId);
                return target is not null && action(target);
            }
            finally
            {
                _store.Capture(chain);
            }
        }
    }

    /// <summary>Drops a closed run once the namespace's retention has passed since it closed.</summary>
    public void ScheduleDrop(WorkflowRun run)
    {
        var closed = run.CloseTime ?? _context.Now.UtcDateTime;
        // Held by the run: a timer nobody references may be collected before it fires.
        run.RunTimers.Add(_context.StartTimerAt(closed + _context.Options.Retention, () => Drop(run)));
    }

    private void Drop(WorkflowRun run)
    {
        var chain = run.Chain;
        lock (chain)
        {
            chain.Runs.Remove(run);
            _store.Remove(run);
            if (chain.Runs.Count == 0)
            {
                chain.Namespace.Chains.TryRemove(new KeyValuePair<string, WorkflowChain>(chain.WorkflowId, chain));
            }
        }
    }
}
