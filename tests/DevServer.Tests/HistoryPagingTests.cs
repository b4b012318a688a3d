using AgentOrchestrator.TestSupport;
using Google.Protobuf;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests;

/// <summary>GetWorkflowExecutionHistory as the SDK and the Web UI use it: pages, long polls and the close-event filter.</summary>
public sealed class HistoryPagingTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class ManyStepsWorkflow
    {
        private bool _go;

        [WorkflowRun]
        public async Task<int> RunAsync(int steps)
        {
            await Workflow.WaitConditionAsync(() => _go);
            var total = 0;
            for (var i = 0; i < steps; i++)
            {
                total = await Workflow.ExecuteActivityAsync(() => Add(total), new ActivityOptions { StartToCloseTimeout = TimeSpan.FromSeconds(30) });
            }
            return total;
        }

        [WorkflowSignal]
        public Task GoAsync()
        {
            _go = true;
            return Task.CompletedTask;
        }

        [Activity]
        public static int Add(int value) => value + 1;
    }

    [Fact]
    public async Task GetHistory_SmallPagesLongPollAndCloseFilter_BehaveLikeTheServer()
    {
        var client = await server.ConnectClientAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<ManyStepsWorkflow>().AddActivity(ManyStepsWorkflow.Add));
        var handle = await client.StartWorkflowAsync((ManyStepsWorkflow wf) => wf.RunAsync(8), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        var execution = new Temporalio.Api.Common.V1.WorkflowExecution { WorkflowId = handle.Id, RunId = handle.ResultRunId! };
        var service = client.Connection.WorkflowService;

        // Long poll from the end of the parked workflow's history: it answers when the signal's event is written.
        await Eventually.TrueAsync(async () => (await handle.FetchHistoryAsync()).Events.Last().EventType == EventType.WorkflowTaskCompleted);
        var parkedLength = (await handle.FetchHistoryAsync()).Events.Count;
        var longPoll = service.GetWorkflowExecutionHistoryAsync(new GetWorkflowExecutionHistoryRequest
        {
            Namespace = server.Namespace,
            Execution = execution,
            WaitNewEvent = true,
            NextPageToken = ByteString.CopyFromUtf8((parkedLength + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)),
        });
        await handle.SignalAsync(wf => wf.GoAsync());
        var woken = await longPoll;
        Assert.Equal(EventType.WorkflowExecutionSignaled, woken.History.Events[0].EventType);
        Assert.Equal(parkedLength + 1, woken.History.Events[0].EventId);

        Assert.Equal(8, await handle.GetResultAsync());

        // Pages of 7 events add up to the whole history, in order, with no gap and no repeat.
        var paged = new List<HistoryEvent>();
        var token = ByteString.Empty;
        var pages = 0;
        do
        {
            var page = await service.GetWorkflowExecutionHistoryAsync(new GetWorkflowExecutionHistoryRequest
            {
                Namespace = server.Namespace,
                Execution = execution,
                MaximumPageSize = 7,
                NextPageToken = token,
            });
            Assert.InRange(page.History.Events.Count, 1, 7);
            paged.AddRange(page.History.Events);
            token = page.NextPageToken;
            pages++;
        }
        while (!token.IsEmpty);
        var full = (await handle.FetchHistoryAsync()).Events.ToList();
        Assert.True(full.Count > 40, $"expected a long history, got {full.Count}");
        Assert.Equal(Enumerable.Range(1, full.Count).Select(i => (long)i), paged.Select(e => e.EventId));
        Assert.Equal(full.Select(e => e.EventType), paged.Select(e => e.EventType));
        Assert.Equal((full.Count + 6) / 7, pages);

        // The close-event filter returns exactly the close event.
        var close = await service.GetWorkflowExecutionHistoryAsync(new GetWorkflowExecutionHistoryRequest
        {
            Namespace = server.Namespace,
            Execution = execution,
            HistoryEventFilterType = HistoryEventFilterType.CloseEvent,
        });
        Assert.Equal(EventType.WorkflowExecutionCompleted, Assert.Single(close.History.Events).EventType);
        Assert.True(close.NextPageToken.IsEmpty);
        await Replay.AssertDeterministicAsync(await handle.FetchHistoryAsync(), typeof(ManyStepsWorkflow));
    }
}
