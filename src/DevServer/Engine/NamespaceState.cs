using System.Collections.Concurrent;
using AgentOrchestrator.DevServer.Matching;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>One namespace: its workflow chains (by workflow id) and its task queues.</summary>
internal sealed class NamespaceState(string name)
{
    public string Name { get; } = name;

    public string Id { get; } = Guid.NewGuid().ToString();

    public ConcurrentDictionary<string, WorkflowChain> Chains { get; } = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, TaskMatcher<PollWorkflowTaskQueueResponse>> _workflowQueues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskMatcher<PollActivityTaskQueueResponse>> _activityQueues = new(StringComparer.Ordinal);

    public TaskMatcher<PollWorkflowTaskQueueResponse> WorkflowQueue(string taskQueue) =>
        _workflowQueues.GetOrAdd(taskQueue, static _ => new TaskMatcher<PollWorkflowTaskQueueResponse>());

    /// <summary>Sticky queues of workers that said they shut down: nothing is routed to them any more.</summary>
    public ConcurrentDictionary<string, bool> ClosedStickyQueues { get; } = new(StringComparer.Ordinal);

    public TaskMatcher<PollWorkflowTaskQueueResponse>? TryRemoveWorkflowQueue(string taskQueue) =>
        _workflowQueues.TryRemove(taskQueue, out var queue) ? queue : null;

    public TaskMatcher<PollActivityTaskQueueResponse> ActivityQueue(string taskQueue) =>
        _activityQueues.GetOrAdd(taskQueue, static _ => new TaskMatcher<PollActivityTaskQueueResponse>());
}

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
