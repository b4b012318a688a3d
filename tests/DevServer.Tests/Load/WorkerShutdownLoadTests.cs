using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Client;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Load;

public sealed class WorkerShutdownLoadTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    private const int WorkflowCount = 1000;

    [Workflow]
    public sealed class TwoActivityWorkflow
    {
        [WorkflowRun]
        public async Task<int> RunAsync(int input)
        {
            var options = new ActivityOptions { StartToCloseTimeout = TimeSpan.FromSeconds(60) };
            var once = await Workflow.ExecuteActivityAsync(() => AddOne(input), options);
            return await Workflow.ExecuteActivityAsync(() => AddOne(once), options);
        }

        [Activity]
        public static int AddOne(int value) => value + 1;
    }

    [Fact]
    public async Task ThousandWorkflows_OneOfTwoWorkersStopsMidway_AllCompleteWithNoTaskLost()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        TemporalWorkerOptions Options() => new TemporalWorkerOptions(taskQueue).AddWorkflow<TwoActivityWorkflow>().AddActivity(TwoActivityWorkflow.AddOne);
        await using var survivor = WorkerScope.Start(client, Options());
        // A second "process": its own SDK runtime and connection (one runtime refuses two workers on one queue).
        var otherProcess = await TemporalClient.ConnectAsync(new TemporalClientConnectOptions(server.Target)
        {
            Namespace = server.Namespace,
            Runtime = new Temporalio.Runtime.TemporalRuntime(new Temporalio.Runtime.TemporalRuntimeOptions()),
        });
        var leaving = WorkerScope.Start(otherProcess, Options());

        var handles = new List<WorkflowHandle<TwoActivityWorkflow, int>>(WorkflowCount);
        for (var i = 0; i < WorkflowCount; i++)
        {
            handles.Add(await client.StartWorkflowAsync((TwoActivityWorkflow wf) => wf.RunAsync(i),
                new WorkflowOptions($"load-{Guid.NewGuid()}", taskQueue)));
            if (i == WorkflowCount / 2)
            {
                // Stopping cancels the worker's in-flight polls; the tasks they were waiting for must not be lost.
                await leaving.DisposeAsync();
            }
        }
        var results = await Task.WhenAll(handles.Select(h => h.GetResultAsync()));

        Assert.Equal(Enumerable.Range(0, WorkflowCount).Select(i => i + 2), results);
    }
}
