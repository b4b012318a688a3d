using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>
/// Update-with-start as the samples use it: a cart created lazily by its first update and re-created once
/// closed, and a payment whose update returns early while the workflow keeps working.
/// </summary>
public sealed class UpdateWithStartTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    public sealed record CartLine(string Sku, int Price);

    [Workflow]
    public sealed class CartWorkflow
    {
        private readonly List<CartLine> _lines = [];
        private bool _checkedOut;

        [WorkflowRun]
        public async Task<int> RunAsync()
        {
            await Workflow.WaitConditionAsync(() => _checkedOut);
            await Workflow.WaitConditionAsync(() => Workflow.AllHandlersFinished);
            return _lines.Sum(l => l.Price);
        }

        [WorkflowUpdate]
        public Task<int> AddAsync(CartLine line)
        {
            _lines.Add(line);
            return Task.FromResult(_lines.Sum(l => l.Price));
        }

        [WorkflowUpdateValidator(nameof(AddAsync))]
        public void ValidateAdd(CartLine line)
        {
            if (_checkedOut)
            {
                throw new InvalidOperationException("cart already checked out");
            }
        }

        [WorkflowUpdate]
        public Task<int> CheckoutAsync()
        {
            _checkedOut = true;
            return Task.FromResult(_lines.Count);
        }
    }

    private static WithStartWorkflowOperation<WorkflowHandle<CartWorkflow, int>> CartStart(string id, string taskQueue) =>
        WithStartWorkflowOperation.Create((CartWorkflow wf) => wf.RunAsync(),
            new WorkflowOptions(id, taskQueue) { IdConflictPolicy = WorkflowIdConflictPolicy.UseExisting });

    [Fact]
    public async Task UpdateWithStart_LazyCartAfterCheckout_StartsFreshRun()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var cartId = $"cart-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<CartWorkflow>());

        var runIds = new List<string>();
        foreach (var (line, subtotal) in new[] { (new CartLine("pen", 3), 3), (new CartLine("ink", 4), 7) })
        {
            var start = CartStart(cartId, taskQueue);
            Assert.Equal(subtotal, await client.ExecuteUpdateWithStartWorkflowAsync((CartWorkflow wf) => wf.AddAsync(line), new(start)));
            runIds.Add((await start.GetHandleAsync()).ResultRunId!);
        }
        var firstCart = client.GetWorkflowHandle<CartWorkflow>(cartId, runIds[0]);
        Assert.Equal(2, await firstCart.ExecuteUpdateAsync(wf => wf.CheckoutAsync()));
        Assert.Equal(7, await firstCart.GetResultAsync<int>());

        // The id is closed now, so the same call starts a new, empty cart.
        var again = CartStart(cartId, taskQueue);
        Assert.Equal(10, await client.ExecuteUpdateWithStartWorkflowAsync((CartWorkflow wf) => wf.AddAsync(new CartLine("pad", 10)), new(again)));
        var secondCart = await again.GetHandleAsync();
        runIds.Add(secondCart.ResultRunId!);
        Assert.Equal(runIds[0], runIds[1]);
        Assert.NotEqual(runIds[0], runIds[2]);
        Assert.Equal(1, await secondCart.ExecuteUpdateAsync(wf => wf.CheckoutAsync()));
        Assert.Equal(10, await secondCart.GetResultAsync());

        var firstHistory = await firstCart.FetchHistoryAsync();
        Assert.Equal(["Add", "Add", "Checkout"], firstHistory.Events.Where(e => e.EventType == EventType.WorkflowExecutionUpdateAccepted)
            .Select(e => e.WorkflowExecutionUpdateAcceptedEventAttributes.AcceptedRequest.Input.Name));
        // The first update rode along with the start and was handled in the very first workflow task.
        var firstAccepted = firstHistory.Events.First(e => e.EventType == EventType.WorkflowExecutionUpdateAccepted);
        Assert.Equal(
            [EventType.WorkflowExecutionStarted, EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted, EventType.WorkflowTaskCompleted],
            firstHistory.Events.TakeWhile(e => e != firstAccepted).Select(e => e.EventType));
        var secondHistory = await secondCart.FetchHistoryAsync();
        Assert.Equal(2, secondHistory.Events.Count(e => e.EventType == EventType.WorkflowExecutionUpdateCompleted));
        await Replay.AssertDeterministicAsync(firstHistory, typeof(CartWorkflow));
        await Replay.AssertDeterministicAsync(secondHistory, typeof(CartWorkflow));
    }

    public static class PaymentActivities
    {
        public static ConcurrentDictionary<string, TaskCompletionSource> SettleGates { get; } = new();

        [Activity]
        public static string Authorize(int amount) => $"auth-{amount}";

        [Activity]
        public static async Task<string> SettleAsync(string authorization)
        {
            var context = ActivityExecutionContext.Current;
            await SettleGates[context.Info.WorkflowId!].Task.WaitAsync(context.CancellationToken);
            return $"settled {authorization}";
        }
    }

    [Workflow]
    public sealed class PaymentWorkflow
    {
        private static readonly ActivityOptions Options = new() { StartToCloseTimeout = TimeSpan.FromSeconds(30) };

        private string? _authorization;

        [WorkflowRun]
        public async Task<string> RunAsync(int amount)
        {
            _authorization = await Workflow.ExecuteActivityAsync(() => PaymentActivities.Authorize(amount), Options);
            return await Workflow.ExecuteActivityAsync(() => PaymentActivities.SettleAsync(_authorization), Options);
        }

        [WorkflowUpdate]
        public async Task<string> WaitForAuthorizationAsync()
        {
            await Workflow.WaitConditionAsync(() => _authorization is not null);
            return _authorization!;
        }
    }

    [Fact]
    public async Task StartUpdateWithStart_WaitForCompleted_ReturnsBeforeWorkflowFinishes()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var paymentId = $"pay-{Guid.NewGuid()}";
        var settle = PaymentActivities.SettleGates.GetOrAdd(paymentId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<PaymentWorkflow>()
            .AddActivity(PaymentActivities.Authorize)
            .AddActivity(PaymentActivities.SettleAsync));

        var start = WithStartWorkflowOperation.Create((PaymentWorkflow wf) => wf.RunAsync(25),
            new WorkflowOptions(paymentId, taskQueue) { IdConflictPolicy = WorkflowIdConflictPolicy.Fail });
        var update = await client.StartUpdateWithStartWorkflowAsync((PaymentWorkflow wf) => wf.WaitForAuthorizationAsync(),
            new(start, WorkflowUpdateStage.Completed));
        Assert.Equal("auth-25", await update.GetResultAsync());

        // Settlement is still held, so the workflow must still be running.
        var handle = await start.GetHandleAsync();
        Assert.Equal(WorkflowExecutionStatus.Running, (await handle.DescribeAsync()).Status);
        settle.TrySetResult();
        Assert.Equal("settled auth-25", await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        var events = history.Events.ToList();
        var updateCompleted = events.Single(e => e.EventType == EventType.WorkflowExecutionUpdateCompleted);
        var settleScheduled = events.Single(e => e.EventType == EventType.ActivityTaskScheduled
            && e.ActivityTaskScheduledEventAttributes.ActivityType.Name == "Settle");
        var settleCompleted = events.Single(e => e.EventType == EventType.ActivityTaskCompleted
            && e.ActivityTaskCompletedEventAttributes.ScheduledEventId == settleScheduled.EventId);
        Assert.True(updateCompleted.EventId < settleCompleted.EventId);
        await Replay.AssertDeterministicAsync(history, typeof(PaymentWorkflow));
    }
}
