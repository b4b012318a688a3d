using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>Eager workflow start with a local activity: the server may hand the first task back inline or ignore the request.</summary>
public sealed class EagerWorkflowStartTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class EagerGreetingWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(string name) =>
            Workflow.ExecuteLocalActivityAsync(() => Greet(name), new LocalActivityOptions { StartToCloseTimeout = TimeSpan.FromSeconds(10) });

        [Activity]
        public static string Greet(string name) => $"Hello, {name}";
    }

    [Fact]
    public async Task RequestEagerStart_WithLocalActivity_CompletesWithMarker()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<EagerGreetingWorkflow>()
            .AddActivity(EagerGreetingWorkflow.Greet));

        var handle = await client.StartWorkflowAsync((EagerGreetingWorkflow wf) => wf.RunAsync("eager"),
            new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue) { RequestEagerStart = true });
        Assert.Equal("Hello, eager", await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        Assert.Equal(
            [
                EventType.WorkflowExecutionStarted, EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted, EventType.WorkflowTaskCompleted,
                EventType.MarkerRecorded, EventType.WorkflowExecutionCompleted,
            ],
            history.Events.Select(e => e.EventType));
        Assert.Equal("core_local_activity", history.Events.ElementAt(4).MarkerRecordedEventAttributes.MarkerName);
        await Replay.AssertDeterministicAsync(history, typeof(EagerGreetingWorkflow));
    }
}
