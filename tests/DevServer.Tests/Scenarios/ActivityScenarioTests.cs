using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

public sealed class ActivityScenarioTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class OneActivityWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(string name) =>
            Workflow.ExecuteActivityAsync(() => Greet(name), new ActivityOptions { StartToCloseTimeout = TimeSpan.FromSeconds(30) });

        [Activity]
        public static string Greet(string name) => $"Hello, {name}!";
    }

    [Fact]
    public async Task OneActivity_Completes_WithExactHistory()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<OneActivityWorkflow>()
            .AddActivity(OneActivityWorkflow.Greet));

        var handle = await client.StartWorkflowAsync((OneActivityWorkflow wf) => wf.RunAsync("Temporal"),
            new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        Assert.Equal("Hello, Temporal!", await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        Assert.Equal(
            [
                EventType.WorkflowExecutionStarted, EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted, EventType.WorkflowTaskCompleted,
                EventType.ActivityTaskScheduled, EventType.ActivityTaskStarted, EventType.ActivityTaskCompleted,
                EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted, EventType.WorkflowTaskCompleted, EventType.WorkflowExecutionCompleted,
            ],
            history.Events.Select(e => e.EventType));
        Assert.Equal(5, history.Events.ElementAt(6).ActivityTaskCompletedEventAttributes.ScheduledEventId);
        Assert.Equal(6, history.Events.ElementAt(6).ActivityTaskCompletedEventAttributes.StartedEventId);
        await Replay.AssertDeterministicAsync(history, typeof(OneActivityWorkflow));
    }
}
