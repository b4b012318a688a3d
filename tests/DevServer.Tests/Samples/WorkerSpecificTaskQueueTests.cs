using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>
/// A workflow asks any worker for its private task queue, then pins the following activities to that
/// queue so they all run on the same worker (e.g. to share local files).
/// </summary>
public sealed class WorkerSpecificTaskQueueTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    public sealed class HostActivities(string uniqueQueue)
    {
        [Activity]
        public string GetUniqueTaskQueue() => uniqueQueue;

        [Activity]
        public string Download(string file) => $"{uniqueQueue}:{file}";

        [Activity]
        public string Process(string path) => $"{path}:processed";
    }

    [Workflow]
    public sealed class FileWorkflow
    {
        [WorkflowRun]
        public async Task<string> RunAsync(string file)
        {
            var options = new ActivityOptions { StartToCloseTimeout = TimeSpan.FromSeconds(30) };
            var queue = await Workflow.ExecuteActivityAsync((HostActivities a) => a.GetUniqueTaskQueue(), options);
            var pinned = new ActivityOptions
            {
                TaskQueue = queue,
                StartToCloseTimeout = TimeSpan.FromSeconds(30),
                // Nobody else polls that queue, so a lost worker shows up as a schedule-to-start timeout.
                ScheduleToStartTimeout = TimeSpan.FromSeconds(30),
            };
            var path = await Workflow.ExecuteActivityAsync((HostActivities a) => a.Download(file), pinned);
            return await Workflow.ExecuteActivityAsync((HostActivities a) => a.Process(path), pinned);
        }
    }

    private static TemporalWorkerOptions SharedQueueWorker(string taskQueue, string uniqueQueue, string identity) =>
        new TemporalWorkerOptions(taskQueue) { Identity = identity }.AddWorkflow<FileWorkflow>().AddAllActivities(new HostActivities(uniqueQueue));

    private static TemporalWorkerOptions UniqueQueueWorker(string uniqueQueue, string identity) =>
        new TemporalWorkerOptions(uniqueQueue) { Identity = identity }.AddAllActivities(new HostActivities(uniqueQueue));

    [Fact]
    public async Task PinnedActivities_OnWorkerUniqueQueue_AllRunOnTheChosenWorker()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var queueA = $"host-a-{Guid.NewGuid()}";
        var queueB = $"host-b-{Guid.NewGuid()}";
        // One client per host: a single client may not run two workers on the same task queue.
        var hostB = await server.ConnectClientAsync();
        await using var sharedA = WorkerScope.Start(client, SharedQueueWorker(taskQueue, queueA, "host-a"));
        await using var uniqueA = WorkerScope.Start(client, UniqueQueueWorker(queueA, "host-a"));
        await using var sharedB = WorkerScope.Start(hostB, SharedQueueWorker(taskQueue, queueB, "host-b"));
        await using var uniqueB = WorkerScope.Start(hostB, UniqueQueueWorker(queueB, "host-b"));

        var handles = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            client.StartWorkflowAsync((FileWorkflow wf) => wf.RunAsync($"file-{i}"), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue))));
        var results = await Task.WhenAll(handles.Select(h => h.GetResultAsync()));

        for (var i = 0; i < handles.Length; i++)
        {
            var history = await handles[i].FetchHistoryAsync();
            var events = history.Events.ToList();
            var scheduled = events.Where(e => e.EventType == EventType.ActivityTaskScheduled).ToList();
            var started = events.Where(e => e.EventType == EventType.ActivityTaskStarted).ToList();
            Assert.Equal(3, scheduled.Count);
            Assert.Equal(taskQueue, scheduled[0].ActivityTaskScheduledEventAttributes.TaskQueue.Name);
            var host = started[0].ActivityTaskStartedEventAttributes.Identity;
            var pinnedQueue = host == "host-a" ? queueA : queueB;
            // Both later activities went to the first worker's own queue and ran there.
            Assert.All(scheduled.Skip(1), e => Assert.Equal(pinnedQueue, e.ActivityTaskScheduledEventAttributes.TaskQueue.Name));
            Assert.All(started, e => Assert.Equal(host, e.ActivityTaskStartedEventAttributes.Identity));
            Assert.Equal($"{pinnedQueue}:file-{i}:processed", results[i]);
            await Replay.AssertDeterministicAsync(history, typeof(FileWorkflow));
        }
    }
}
