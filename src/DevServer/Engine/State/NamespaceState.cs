using System.Collections.Concurrent;

namespace AgentOrchestrator.DevServer.Engine.State;

/// <summary>One namespace and its workflow chains (by workflow id).</summary>
internal sealed class NamespaceState(string name, string id)
{
    public string Name { get; } = name;

    /// <summary>Stable for the namespace's life: history events name it.</summary>
    public string Id { get; } = id;

    public ConcurrentDictionary<string, WorkflowChain> Chains { get; } = new(StringComparer.Ordinal);
}
