using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Worker;
using Temporalio.Workflows;
using PendingActivityInfo = Temporalio.Api.Workflow.V1.PendingActivityInfo;
using WorkflowExecution = Temporalio.Api.Common.V1.WorkflowExecution;

namespace AgentOrchestrator.DevServer.Tests.Persistence;

/// <summary>
/// What PauseActivity and ResetActivity set on a pending activity survives a restart on the same SQLite file: a paused
/// activity stays paused until UnpauseActivity, and a reset asked of a running attempt still reaches it (on its next
/// heartbeat) or, when its worker died with the server, makes the next attempt start again at 1.
/// </summary>
public sealed class ActivityControlRestartTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Workflow]
    public sealed class ControlledActivityWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(bool heartbeatAfterGate) =>
            Workflow.ExecuteActivityAsync(() => ControlledActivity.RunAsync(heartbeatAfterGate), new ActivityOptions
            {
                StartToCloseTimeout = TimeSpan.FromMinutes(10),
                // Long enough that only the restart (or a pause or reset heard on a heartbeat) ends an attempt in the test.
                HeartbeatTimeout = TimeSpan.FromMinutes(5),
                RetryPolicy = new RetryPolicy { InitialInterval = TimeSpan.FromMilliseconds(1), MaximumAttempts = 5 },
            });
    }

    public static class ControlledActivity
    {
        private static readonly ConcurrentDictionary<string, int> s_executions = new();
        private static readonly ConcurrentDictionary<string, TaskCompletionSource> s_firstStarted = new();
        private static readonly ConcurrentDictionary<string, TaskCompletionSource> s_gates = new();

        public static Task FirstExecutionStarted(string workflowId) => Signal(s_firstStarted, workflowId).Task;

        public static void OpenGate(string workflowId) => Signal(s_gates, workflowId).TrySetResult();

        public static int Executions(string workflowId) => s_executions.GetValueOrDefault(workflowId);

        private static TaskCompletionSource Signal(ConcurrentDictionary<string, TaskCompletionSource> signals, string workflowId) =>
            signals.GetOrAdd(workflowId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        /// <summary>
        /// The first execution of a workflow's activity waits: with <paramref name="heartbeatAfterGate"/> until the test opens
        /// its gate, then heartbeats until it is cancelled and reports why; otherwise until its worker gives up on it. Every
        /// later execution reports its attempt.
        /// </summary>
        [Activity]
        public static async Task<string> RunAsync(bool heartbeatAfterGate)
        {
            var context = ActivityExecutionContext.Current;
            var workflowId = context.Info.WorkflowId ?? throw new InvalidOperationException("a workflow activity has a workflow id");
            if (s_executions.AddOrUpdate(workflowId, 1, (_, n) => n + 1) > 1)
            {
                return $"attempt-{context.Info.Attempt}";
            }
            Signal(s_firstStarted, workflowId).TrySetResult();
            if (!heartbeatAfterGate)
            {
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }
            await Signal(s_gates, workflowId).Task;
            while (!context.CancellationToken.IsCancellationRequested)
            {
                context.Heartbeat(); // the SDK sends the first at once, then at most every 80 % of the heartbeat timeout
                await Task.Delay(100, CancellationToken.None);
            }
            return $"{context.CancelReason} reset={context.CancellationDetails?.IsReset}";
        }
    }

    [Fact]
    public async Task PausedActivity_ServerRestarts_StaysPausedUntilUnpaused()
    {
        await using var server = await new PersistentServer().StartAsync();
        var client = await server.ConnectAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        var workflowId = $"wf-{Guid.NewGuid()}";
        WorkflowHandle<ControlledActivityWorkflow, string> handle;
        // No activity worker yet: the activity is queued when it is paused.
        await using (var workflowsOnly = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<ControlledActivityWorkflow>()))
        {
            handle = await client.StartWorkflowAsync((ControlledActivityWorkflow wf) => wf.RunAsync(false), new WorkflowOptions(workflowId, taskQueue));
            await ScenarioHelpers.WaitForEventAsync(handle, EventType.ActivityTaskScheduled, Wait, "the activity is scheduled");
            await client.WorkflowService.PauseActivityAsync(new PauseActivityRequest
            {
                Namespace = "default",
                Execution = new WorkflowExecution { WorkflowId = workflowId },
                Type = "Run",
                Reason = "maintenance",
            });
        }

        await server.RestartAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<ControlledActivityWorkflow>().AddActivity(ControlledActivity.RunAsync));
        await Eventually.TrueAsync(async () => await HasActivityPollerAsync(client, taskQueue), Wait, "the activity worker polls");

        var pending = Assert.Single(await PendingActivitiesAsync(client, workflowId));
        Assert.True(pending.Paused, "the pause was lost in the restart");
        Assert.Equal(PendingActivityState.Scheduled, pending.State);
        Assert.Equal(0, ControlledActivity.Executions(workflowId));

        await client.WorkflowService.UnpauseActivityAsync(new UnpauseActivityRequest
        {
            Namespace = "default",
            Execution = new WorkflowExecution { WorkflowId = workflowId },
            Type = "Run",
        });
        await ControlledActivity.FirstExecutionStarted(workflowId).WaitAsync(Wait);
        Assert.False(Assert.Single(await PendingActivitiesAsync(client, workflowId)).Paused);
        await handle.TerminateAsync("done");
        Assert.Equal(1, ControlledActivity.Executions(workflowId));
    }

    [Fact]
    public async Task ResetOfARunningAttempt_ServerRestarts_TheAttemptStillHearsItOnItsNextHeartbeat()
    {
        await using var server = await new PersistentServer().StartAsync();
        var client = await server.ConnectAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<ControlledActivityWorkflow>().AddActivity(ControlledActivity.RunAsync));
        var handle = await StartThenResetTheRunningAttemptAsync(client, taskQueue, heartbeatAfterGate: true);

        await server.RestartAsync();
        ControlledActivity.OpenGate(handle.Id);

        Assert.Equal("Reset reset=True", await handle.GetResultAsync().WaitAsync(Wait));
        Assert.Equal(1, ControlledActivity.Executions(handle.Id));
    }

    [Fact]
    public async Task ResetOfARunningAttempt_WorkersRunInTheServersProcess_TheNextAttemptStartsAgainAtOne()
    {
        await using var server = await new PersistentServer(configure: o => o.WorkersInProcess = true).StartAsync();
        var client = await server.ConnectAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<ControlledActivityWorkflow>().AddActivity(ControlledActivity.RunAsync));
        var handle = await StartThenResetTheRunningAttemptAsync(client, taskQueue, heartbeatAfterGate: false);

        // The attempt never heartbeats, so only the restart ends it: as interrupted by the reset, not as a counted failure.
        await server.RestartAsync();

        Assert.Equal("attempt-1", await handle.GetResultAsync().WaitAsync(Wait));
        var started = Assert.Single((await handle.FetchHistoryAsync()).Events, e => e.EventType == EventType.ActivityTaskStarted);
        Assert.Equal(1, started.ActivityTaskStartedEventAttributes.Attempt);
    }

    /// <summary>Starts the workflow, waits until the server has its activity's first attempt started, then resets it.</summary>
    private static async Task<WorkflowHandle<ControlledActivityWorkflow, string>> StartThenResetTheRunningAttemptAsync(TemporalClient client,
        string taskQueue, bool heartbeatAfterGate)
    {
        var handle = await client.StartWorkflowAsync((ControlledActivityWorkflow wf) => wf.RunAsync(heartbeatAfterGate),
            new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        await ControlledActivity.FirstExecutionStarted(handle.Id).WaitAsync(Wait);
        await Eventually.TrueAsync(async () => (await PendingActivitiesAsync(client, handle.Id)) is [{ State: PendingActivityState.Started }], Wait,
            "the server has recorded the attempt as started");
        await client.WorkflowService.ResetActivityAsync(new ResetActivityRequest
        {
            Namespace = "default",
            Execution = new WorkflowExecution { WorkflowId = handle.Id },
            Type = "Run",
        });
        return handle;
    }

    private static async Task<bool> HasActivityPollerAsync(TemporalClient client, string taskQueue) =>
        (await client.WorkflowService.DescribeTaskQueueAsync(new DescribeTaskQueueRequest
        {
            Namespace = "default",
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = taskQueue },
            TaskQueueType = TaskQueueType.Activity,
        })).Pollers.Count > 0;

    private static async Task<IList<PendingActivityInfo>> PendingActivitiesAsync(TemporalClient client, string workflowId) =>
        (await client.WorkflowService.DescribeWorkflowExecutionAsync(new DescribeWorkflowExecutionRequest
        {
            Namespace = "default",
            Execution = new WorkflowExecution { WorkflowId = workflowId },
        })).PendingActivities;
}
