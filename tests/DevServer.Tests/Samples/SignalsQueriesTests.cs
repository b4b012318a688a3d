using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>A workflow accumulating signals, observed through queries until a done signal ends it.</summary>
public sealed class SignalsQueriesTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class ShoppingCartWorkflow
    {
        private readonly List<string> _items = [];
        private bool _checkedOut;

        [WorkflowRun]
        public async Task<string> RunAsync(string customer)
        {
            await Workflow.WaitConditionAsync(() => _checkedOut);
            return $"{customer}: {string.Join(", ", _items)}";
        }

        [WorkflowSignal]
        public Task AddItemAsync(string item)
        {
            _items.Add(item);
            return Task.CompletedTask;
        }

        [WorkflowSignal]
        public Task CheckoutAsync()
        {
            _checkedOut = true;
            return Task.CompletedTask;
        }

        [WorkflowQuery]
        public IReadOnlyList<string> Items => _items;

        [WorkflowQuery]
        public bool Contains(string item) => _items.Contains(item);
    }

    [Fact]
    public async Task Signals_AccumulatedAndQueried_CompleteOnDoneSignal()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<ShoppingCartWorkflow>());

        var handle = await client.StartWorkflowAsync((ShoppingCartWorkflow wf) => wf.RunAsync("carol"),
            new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        Assert.Empty(await handle.QueryAsync(wf => wf.Items));

        string[] items = ["apple", "bread", "cheese"];
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            await handle.SignalAsync(wf => wf.AddItemAsync(item));
            var expected = items[..(i + 1)];
            await Eventually.TrueAsync(async () => (await handle.QueryAsync(wf => wf.Items)).SequenceEqual(expected),
                because: $"query should show {item}");
        }
        Assert.True(await handle.QueryAsync(wf => wf.Contains("bread")));
        Assert.False(await handle.QueryAsync(wf => wf.Contains("durian")));

        await handle.SignalAsync(wf => wf.CheckoutAsync());
        Assert.Equal("carol: apple, bread, cheese", await handle.GetResultAsync());

        // Queries keep working on the closed workflow.
        Assert.Equal(items, await handle.QueryAsync(wf => wf.Items));

        var history = await handle.FetchHistoryAsync();
        Assert.Equal(
            ["AddItem", "AddItem", "AddItem", "Checkout"],
            history.Events.Where(e => e.EventType == EventType.WorkflowExecutionSignaled)
                .Select(e => e.WorkflowExecutionSignaledEventAttributes.SignalName));
        Assert.Equal(EventType.WorkflowExecutionCompleted, history.Events.Last().EventType);
        await Replay.AssertDeterministicAsync(history, typeof(ShoppingCartWorkflow));
    }
}
