using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>A worker process replaced mid-workflow: the new worker rebuilds the run from full history.</summary>
public sealed class WorkerReplacementTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class OrderWorkflow
    {
        private static readonly ActivityOptions Options = new() { StartToCloseTimeout = TimeSpan.FromSeconds(30) };

        private string? _approver;

        [WorkflowRun]
        public async Task<string> RunAsync(string order)
        {
            var reserved = await Workflow.ExecuteActivityAsync(() => Reserve(order), Options);
            Stage = "waiting";
            await Workflow.WaitConditionAsync(() => _approver is not null);
            return await Workflow.ExecuteActivityAsync(() => Ship(reserved, _approver!), Options);
        }

        [WorkflowSignal]
        public Task ApproveAsync(string approver)
        {
            _approver = approver;
            return Task.CompletedTask;
        }

        [WorkflowQuery]
        public string Stage { get; private set; } = "reserving";

        [Activity]
        public static string Reserve(string order) => $"reserved({order})@{ActivityExecutionContext.Current.Info.WorkflowType}";

        [Activity]
        public static string Ship(string reservation, string approver) => $"shipped({reservation}) by {approver}";
    }

    private static TemporalWorkerOptions Options(string taskQueue, string identity) => new TemporalWorkerOptions(taskQueue)
    {
        Identity = identity,
    }.AddWorkflow<OrderWorkflow>().AddActivity(OrderWorkflow.Reserve).AddActivity(OrderWorkflow.Ship);

    [Fact]
    public async Task WorkerReplaced_WhileWaitingOnSignal_NewWorkerContinuesFromFullHistory()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        WorkflowHandle<OrderWorkflow, string> handle;

        await using (WorkerScope.Start(client, Options(taskQueue, "worker-1")))
        {
            handle = await client.StartWorkflowAsync((OrderWorkflow wf) => wf.RunAsync("order-7"),
                new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
            await Eventually.TrueAsync(async () => await handle.QueryAsync(wf => wf.Stage) == "waiting", because: "worker 1 should park the run");
        }

        // A fresh worker has an empty cache: it must replay the reservation from history, not rerun it.
        await using var second = WorkerScope.Start(client, Options(taskQueue, "worker-2"));
        await handle.SignalAsync(wf => wf.ApproveAsync("dana"));
        Assert.Equal("shipped(reserved(order-7)@OrderWorkflow) by dana", await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        var events = history.Events.ToList();
        Assert.Equal(
            ["Reserve", "Ship"],
            events.Where(e => e.EventType == EventType.ActivityTaskScheduled).Select(e => e.ActivityTaskScheduledEventAttributes.ActivityType.Name));
        var activityWorkers = events.Where(e => e.EventType == EventType.ActivityTaskStarted).Select(e => e.ActivityTaskStartedEventAttributes.Identity).ToList();
        Assert.Equal(["worker-1", "worker-2"], activityWorkers);
        var signal = events.Single(e => e.EventType == EventType.WorkflowExecutionSignaled);
        // Every task before the signal ran on worker 1, every task after it on worker 2.
        var taskWorkers = events.Where(e => e.EventType == EventType.WorkflowTaskStarted)
            .Select(e => (e.EventId, e.WorkflowTaskStartedEventAttributes.Identity)).ToList();
        Assert.All(taskWorkers.Where(t => t.EventId < signal.EventId), t => Assert.Equal("worker-1", t.Identity));
        Assert.All(taskWorkers.Where(t => t.EventId > signal.EventId), t => Assert.Equal("worker-2", t.Identity));
        Assert.Contains(taskWorkers, t => t.EventId > signal.EventId);
        Assert.Equal(EventType.WorkflowExecutionCompleted, events.Last().EventType);
        await Replay.AssertDeterministicAsync(history, typeof(OrderWorkflow));
    }

    [Workflow]
    public sealed class ConvertWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(string input) =>
            Workflow.ExecuteActivityAsync(() => ConvertAsync(input), new ActivityOptions
            {
                StartToCloseTimeout = TimeSpan.FromSeconds(30),
                // A lost attempt is noticed quickly whether or not the old worker reports it.
                HeartbeatTimeout = TimeSpan.FromSeconds(2),
                RetryPolicy = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(200) },
            });

        public static ConcurrentDictionary<string, TaskCompletionSource> FirstAttemptRunning { get; } = new();

        [Activity]
        public static async Task<string> ConvertAsync(string input)
        {
            var context = ActivityExecutionContext.Current;
            if (context.Info.Attempt == 1)
            {
                FirstAttemptRunning[context.Info.WorkflowId!].TrySetResult();
                // Never finishes on its own: only the worker's shutdown ends this attempt.
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }
            return $"converted({input}) on attempt {context.Info.Attempt}";
        }
    }

    [Fact]
    public async Task WorkerReplaced_WhileActivityRunning_ActivityRetriedOnNewWorker()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var workflowId = $"wf-{Guid.NewGuid()}";
        var running = ConvertWorkflow.FirstAttemptRunning.GetOrAdd(workflowId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
        TemporalWorkerOptions Options(string identity) => new TemporalWorkerOptions(taskQueue) { Identity = identity }
            .AddWorkflow<ConvertWorkflow>().AddActivity(ConvertWorkflow.ConvertAsync);

        WorkflowHandle<ConvertWorkflow, string> handle;
        await using (WorkerScope.Start(client, Options("worker-1")))
        {
            handle = await client.StartWorkflowAsync((ConvertWorkflow wf) => wf.RunAsync("doc"), new WorkflowOptions(workflowId, taskQueue));
            await running.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }

        await using var second = WorkerScope.Start(client, Options("worker-2"));
        Assert.Equal("converted(doc) on attempt 2", await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        var events = history.Events.ToList();
        Assert.Single(events, e => e.EventType == EventType.ActivityTaskScheduled);
        var started = Assert.Single(events, e => e.EventType == EventType.ActivityTaskStarted).ActivityTaskStartedEventAttributes;
        Assert.Equal(2, started.Attempt);
        Assert.Equal("worker-2", started.Identity);
        Assert.NotNull(started.LastFailure);
        Assert.Equal(EventType.WorkflowExecutionCompleted, events.Last().EventType);
        await Replay.AssertDeterministicAsync(history, typeof(ConvertWorkflow));
    }
}
