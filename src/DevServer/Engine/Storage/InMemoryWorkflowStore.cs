using AgentOrchestrator.DevServer.Engine.State;

namespace AgentOrchestrator.DevServer.Engine.Storage;

/// <summary>Keeps nothing beyond the engine's own objects: a restart starts empty (the fast default for tests).</summary>
internal sealed class InMemoryWorkflowStore : IWorkflowStore
{
    public string Description => "in memory (a restart loses everything)";

    public IReadOnlyDictionary<string, byte[]> LoadRecords(string kind) => new Dictionary<string, byte[]>();

    public IReadOnlyList<StoredRun> LoadRuns() => [];

    public void PutRecord(string kind, string key, byte[]? value)
    {
    }

    public void Capture(WorkflowChain chain)
    {
    }

    public void Remove(WorkflowRun run)
    {
    }

    public Task WhenStoredAsync() => Task.CompletedTask;
}
