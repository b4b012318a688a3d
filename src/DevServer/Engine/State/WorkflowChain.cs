namespace AgentOrchestrator.DevServer.Engine.State;

/// <summary>
/// All runs that share a workflow id. Its monitor is the lock for every run in it: operations on
/// different workflow ids never contend.
/// </summary>
internal sealed class WorkflowChain(NamespaceState ns, string workflowId)
{
    public NamespaceState Namespace { get; } = ns;

    public string WorkflowId { get; } = workflowId;

    public List<WorkflowRun> Runs { get; } = [];

    public WorkflowRun? Current => Runs.Count == 0 ? null : Runs[^1];

    public WorkflowRun? Find(string? runId)
    {
        if (string.IsNullOrEmpty(runId))
        {
            return Current;
        }
        foreach (var run in Runs)
        {
            if (run.RunId == runId)
            {
                return run;
            }
        }
        return null;
    }
}
