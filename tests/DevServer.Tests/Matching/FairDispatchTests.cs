using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Matching;

/// <summary>
/// Dispatch order through the real SDK: a backlog of activity tasks is built with no activity worker,
/// then a single-slot worker drains it and records the order it was served in.
/// </summary>
public sealed class FairDispatchTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> s_served = new();

    [Workflow]
    public sealed class TaggedWorkflow
    {
        [WorkflowRun]
        public Task RunAsync(string queueKey, string tag) =>
            Workflow.ExecuteActivityAsync(() => Record(queueKey, tag), new ActivityOptions { StartToCloseTimeout = TimeSpan.FromSeconds(30) });

        [Activity]
        public static void Record(string queueKey, string tag) => s_served.GetOrAdd(queueKey, _ => new ConcurrentQueue<string>()).Enqueue(tag);
    }

    private async Task<List<string>> DrainInOrderAsync(IEnumerable<(string Tag, Priority Priority)> starts)
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var handles = new List<WorkflowHandle>();
        // Workflow tasks run first (no activity worker yet), so every activity task waits in the backlog.
        await using (var workflowWorker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<TaggedWorkflow>()))
        {
            foreach (var (tag, priority) in starts)
            {
                handles.Add(await client.StartWorkflowAsync((TaggedWorkflow wf) => wf.RunAsync(taskQueue, tag),
                    new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue) { Priority = priority }));
            }
            await Eventually.TrueAsync(async () =>
            {
                foreach (var handle in handles)
                {
                    if (!(await handle.FetchHistoryAsync()).Events.Any(e => e.EventType == Temporalio.Api.Enums.V1.EventType.ActivityTaskScheduled))
                    {
                        return false;
                    }
                }
                return true;
            }, TimeSpan.FromSeconds(60), "every workflow scheduled its activity");
        }
        await using (var activityWorker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
        {
            MaxConcurrentActivities = 1,
        }.AddWorkflow<TaggedWorkflow>().AddActivity(TaggedWorkflow.Record)))
        {
            foreach (var handle in handles)
            {
                await handle.GetResultAsync();
            }
        }
        return [.. s_served[taskQueue]];
    }

    [Fact]
    public async Task FairnessWeights_ThreeToOne_DispatchedAboutThreeToOne()
    {
        var starts = Enumerable.Range(0, 40).Select(_ => ("heavy", new Priority(fairnessKey: "tenant-heavy", fairnessWeight: 3)))
            .Concat(Enumerable.Range(0, 40).Select(_ => ("light", new Priority(fairnessKey: "tenant-light", fairnessWeight: 1))));

        var order = await DrainInOrderAsync(starts);

        Assert.Equal(80, order.Count);
        // While both keys have work (the first 40 dispatches), weights 3:1 give 30:10; allow a little slack.
        var heavyInFirst40 = order.Take(40).Count(tag => tag == "heavy");
        Assert.InRange(heavyInFirst40, 27, 33);
    }

    [Fact]
    public async Task PriorityKeys_OneBeforeFive_HighPriorityServedFirst()
    {
        var starts = Enumerable.Range(0, 10).Select(_ => ("low", new Priority(priorityKey: 5)))
            .Concat(Enumerable.Range(0, 10).Select(_ => ("high", new Priority(priorityKey: 1))));

        var order = await DrainInOrderAsync(starts);

        Assert.Equal(Enumerable.Repeat("high", 10).Concat(Enumerable.Repeat("low", 10)), order);
    }
}
