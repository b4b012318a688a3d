using AgentOrchestrator.DevServer.Engine.State;

namespace AgentOrchestrator.DevServer.Engine.Storage;

/// <summary>
/// Where the engine's state is kept. The objects in memory are the working copy every call reads and changes
/// under its workflow's lock; a store records each change (<see cref="Capture"/>, under that lock, so records
/// are consistent snapshots) and makes it durable in the background. The engine's callers wait for
/// <see cref="WhenStoredAsync"/> before answering, so whatever a client was told is stored.
/// </summary>
internal interface IWorkflowStore
{
    /// <summary>What the store is, for the start-up log line (e.g. "in memory").</summary>
    string Description { get; }

    /// <summary>Records of one kind (namespaces, schedules, ...) saved by an earlier process, by key.</summary>
    IReadOnlyDictionary<string, byte[]> LoadRecords(string kind);

    /// <summary>The runs saved by an earlier process, each chain's runs in the order they were created.</summary>
    IReadOnlyList<StoredRun> LoadRuns();

    /// <summary>Saves a record of a kind, or deletes it when <paramref name="value"/> is null.</summary>
    void PutRecord(string kind, string key, byte[]? value);

    /// <summary>Records the runs of a chain that changed; called under the chain's lock after every change.</summary>
    void Capture(WorkflowChain chain);

    /// <summary>Forgets a run dropped by retention (under its chain's lock).</summary>
    void Remove(WorkflowRun run);

    /// <summary>Completes once every change captured before the call is durable.</summary>
    Task WhenStoredAsync();
}
