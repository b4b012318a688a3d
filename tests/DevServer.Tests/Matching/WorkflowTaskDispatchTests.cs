using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Matching;

/// <summary>
/// Workflow tasks are matched like activity tasks (<see cref="FairDispatchTests"/>): by priority key, then weighted
/// fair across fairness keys. A backlog of first workflow tasks is built with no worker, then a worker with one
/// workflow task slot drains it; each workflow records its tag in its only task.
/// </summary>
public sealed class WorkflowTaskDispatchTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> s_served = new();

    [Workflow]
    public sealed class RecordingWorkflow
    {
        [WorkflowRun]
        public Task RunAsync(string queueKey, string tag)
        {
            // The workflow completes in this task, so it is never replayed on this worker; the guard says so explicitly.
            if (!Workflow.Unsafe.IsReplaying)
            {
                s_served.GetOrAdd(queueKey, _ => new ConcurrentQueue<string>()).Enqueue(tag);
            }
            return Task.CompletedTask;
        }
    }

    private async Task<List<string>> DrainInOrderAsync(IEnumerable<(string Tag, Priority Priority)> starts)
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var handles = new List<WorkflowHandle>();
        foreach (var (tag, priority) in starts)
        {
            handles.Add(await client.StartWorkflowAsync((RecordingWorkflow wf) => wf.RunAsync(taskQueue, tag),
                new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue) { Priority = priority }));
        }
        await using (var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
        {
            MaxConcurrentWorkflowTasks = 1,
            // No cache, so no sticky queue: the one slot's poll would otherwise alternate with long polls of an empty
            // sticky queue (every workflow here completes in its first task).
            MaxCachedWorkflows = 0,
        }.AddWorkflow<RecordingWorkflow>()))
        {
            foreach (var handle in handles)
            {
                await handle.GetResultAsync();
            }
        }
        return [.. s_served[taskQueue]];
    }

    [Fact]
    public async Task FairnessWeights_ThreeToOne_WorkflowTasksDispatchedAboutThreeToOne()
    {
        // Interleaved starts: first-come-first-served would give 1:1.
        var starts = Enumerable.Range(0, 40).SelectMany(_ => new[]
        {
            ("heavy", new Priority(fairnessKey: "tenant-heavy", fairnessWeight: 3)),
            ("light", new Priority(fairnessKey: "tenant-light", fairnessWeight: 1)),
        });

        var order = await DrainInOrderAsync(starts);

        Assert.Equal(80, order.Count);
        // While both keys have work (the first 40 dispatches), weights 3:1 give 30:10; allow a little slack.
        Assert.InRange(order.Take(40).Count(tag => tag == "heavy"), 27, 33);
    }

    [Fact]
    public async Task PriorityKeys_FiveQueuedFirst_PriorityOneWorkflowTasksServedFirst()
    {
        var starts = Enumerable.Range(0, 10).Select(_ => ("low", new Priority(priorityKey: 5)))
            .Concat(Enumerable.Range(0, 10).Select(_ => ("high", new Priority(priorityKey: 1))));

        var order = await DrainInOrderAsync(starts);

        Assert.Equal(Enumerable.Repeat("high", 10).Concat(Enumerable.Repeat("low", 10)), order);
    }
}
