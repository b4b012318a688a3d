using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>Sync and async activities, declared as static methods and as methods of an instance.</summary>
public sealed class ActivitySimpleTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    public sealed record Summary(string Greeting, string Shouted, int Letters);

    public sealed class GreetingActivities(string salutation)
    {
        // Written by the static async activity, keyed by workflow id, so the test can see it ran.
        public static ConcurrentDictionary<string, string> Audit { get; } = new();

        [Activity]
        public string Compose(string name) => $"{salutation}, {name}";

        [Activity]
        public async Task<string> ShoutAsync(string text)
        {
            await Task.Yield();
            return text.ToUpperInvariant() + "!";
        }

        [Activity]
        public static int CountLetters(string text) => text.Count(char.IsLetter);

        [Activity]
        public static async Task RecordAsync(string entry)
        {
            await Task.Yield();
            Audit[ActivityExecutionContext.Current.Info.WorkflowId!] = entry;
        }
    }

    [Workflow]
    public sealed class GreetingWorkflow
    {
        private static readonly ActivityOptions Options = new() { StartToCloseTimeout = TimeSpan.FromSeconds(30) };

        [WorkflowRun]
        public async Task<Summary> RunAsync(string name)
        {
            var greeting = await Workflow.ExecuteActivityAsync((GreetingActivities a) => a.Compose(name), Options);
            var shouted = await Workflow.ExecuteActivityAsync((GreetingActivities a) => a.ShoutAsync(greeting), Options);
            var letters = await Workflow.ExecuteActivityAsync(() => GreetingActivities.CountLetters(shouted), Options);
            await Workflow.ExecuteActivityAsync(() => GreetingActivities.RecordAsync($"{shouted}/{letters}"), Options);
            return new Summary(greeting, shouted, letters);
        }
    }

    [Fact]
    public async Task StaticAndInstanceActivities_SyncAndAsync_RunInOrderAndReturnResults()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var workflowId = $"wf-{Guid.NewGuid()}";
        await using (WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<GreetingWorkflow>()
            .AddAllActivities(new GreetingActivities("Hello"))))
        {
            var handle = await client.StartWorkflowAsync((GreetingWorkflow wf) => wf.RunAsync("World"), new WorkflowOptions(workflowId, taskQueue));

            var result = await handle.GetResultAsync();

            Assert.Equal(new Summary("Hello, World", "HELLO, WORLD!", 10), result);
            Assert.Equal("HELLO, WORLD!/10", GreetingActivities.Audit[workflowId]);

            var history = await handle.FetchHistoryAsync();
            var scheduled = history.Events.Where(e => e.EventType == EventType.ActivityTaskScheduled).ToList();
            // The SDK strips the Async suffix from activity names.
            Assert.Equal(["Compose", "Shout", "CountLetters", "Record"], scheduled.Select(e => e.ActivityTaskScheduledEventAttributes.ActivityType.Name));
            var completed = history.Events.Where(e => e.EventType == EventType.ActivityTaskCompleted).ToList();
            Assert.Equal(scheduled.Select(e => e.EventId), completed.Select(e => e.ActivityTaskCompletedEventAttributes.ScheduledEventId));
            Assert.Equal(EventType.WorkflowExecutionCompleted, history.Events.Last().EventType);
            await Replay.AssertDeterministicAsync(history, typeof(GreetingWorkflow));
        }
    }
}
