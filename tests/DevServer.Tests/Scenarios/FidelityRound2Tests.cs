using AgentOrchestrator.TestSupport;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using Temporalio.Activities;
using Temporalio.Api.Command.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Converters;
using Temporalio.Worker;
using Temporalio.Workflows;
using static AgentOrchestrator.DevServer.Tests.ScenarioHelpers;
using WorkflowExecution = Temporalio.Api.Common.V1.WorkflowExecution;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>
/// Fidelity round 2 (issue 13 item 3), each through the stock SDK: memo removal, user metadata, signal-with-start
/// delay, build id, continue-as-new suggestion, sticky reset, a rejected command, activity pause/unpause/reset and
/// cron workflows that recur.
/// </summary>
public sealed class FidelityRound2Tests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class MetadataWorkflow
    {
        private bool _finish;

        [WorkflowRun]
        public async Task RunAsync()
        {
            Workflow.UpsertMemo([MemoUpdate.ValueSet("keep", "kept"), MemoUpdate.ValueUnset("drop")]);
            await Workflow.DelayWithOptionsAsync(new(TimeSpan.FromMilliseconds(1)) { Summary = "my-timer" });
            await Workflow.ExecuteActivityAsync(() => PausableActivities.QuickAsync(), new ActivityOptions
            {
                StartToCloseTimeout = TimeSpan.FromMinutes(1),
                Summary = "my-activity",
            });
            await Workflow.WaitConditionAsync(() => _finish);
        }

        [WorkflowSignal]
        public Task FinishAsync()
        {
            _finish = true;
            return Task.CompletedTask;
        }

        [WorkflowQuery]
        public string BuildId => Workflow.CurrentBuildId;

        [WorkflowQuery]
        public bool ContinueAsNewSuggested => Workflow.ContinueAsNewSuggested;
    }

    public static class PausableActivities
    {
        public static TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        [Activity]
        public static Task<string> QuickAsync() => Task.FromResult("quick");

        /// <summary>Heartbeats until cancelled, then reports why (paused or reset) as its result.</summary>
        [Activity]
        public static async Task<string> HeartbeatUntilInterruptedAsync(string name)
        {
            var context = ActivityExecutionContext.Current;
            while (!context.CancellationToken.IsCancellationRequested)
            {
                context.Heartbeat(name);
                Reached.TrySetResult();
                await Task.Delay(100, CancellationToken.None);
            }
            return $"{context.CancelReason} paused={context.CancellationDetails?.IsPaused} reset={context.CancellationDetails?.IsReset}";
        }
    }

    [Workflow]
    public sealed class ActivityWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(string name) =>
            Workflow.ExecuteActivityAsync(() => PausableActivities.HeartbeatUntilInterruptedAsync(name), new ActivityOptions
            {
                StartToCloseTimeout = TimeSpan.FromMinutes(2),
                HeartbeatTimeout = TimeSpan.FromSeconds(5), // the SDK heartbeats (and so hears a pause or reset) every 80 % of it
            });
    }

    [Workflow]
    public sealed class CronWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync()
        {
            var last = Workflow.Info.LastResult?.SingleOrDefault() is { } payload ? Workflow.PayloadConverter.ToValue<string>(payload) : null;
            return Task.FromResult(last is null ? "run 1" : $"run {int.Parse(last[4..], System.Globalization.CultureInfo.InvariantCulture) + 1}");
        }
    }

    [Fact]
    public async Task MemoUpsert_OfNull_RemovesTheKey_AndUserMetadataIsKeptOnStartTimersActivitiesAndDescribe()
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<MetadataWorkflow>().AddActivity(PausableActivities.QuickAsync));
        await using var _ = worker;
        var handle = await client.StartWorkflowAsync((MetadataWorkflow wf) => wf.RunAsync(), new WorkflowOptions($"metadata-{Guid.NewGuid()}", taskQueue)
        {
            Memo = new Dictionary<string, object> { ["drop"] = "gone soon", ["other"] = "stays" },
            StaticSummary = "my-workflow",
            StaticDetails = "my-workflow-details",
        });
        await WaitForEventAsync(handle, EventType.ActivityTaskCompleted, TimeSpan.FromSeconds(60), "the activity never completed");

        var described = await handle.DescribeAsync();
        Assert.Equal("my-workflow", await described.GetStaticSummaryAsync());
        Assert.Equal("my-workflow-details", await described.GetStaticDetailsAsync());
        Assert.Equal(["keep", "other"], described.Memo.Keys.Order());
        var history = (await handle.FetchHistoryAsync()).Events.ToList();
        Assert.Contains(history, e => e.TimerStartedEventAttributes is not null && e.UserMetadata?.Summary?.Data.ToStringUtf8() == "\"my-timer\"");
        Assert.Contains(history, e => e.ActivityTaskScheduledEventAttributes is not null && e.UserMetadata?.Summary?.Data.ToStringUtf8() == "\"my-activity\"");
        await handle.SignalAsync(wf => wf.FinishAsync());
        await handle.GetResultAsync();
    }

    [Fact]
    public async Task SignalWithStart_KeepsTheStartDelay()
    {
        var client = await server.ConnectClientAsync();
        var handle = await client.StartWorkflowAsync((MetadataWorkflow wf) => wf.RunAsync(), new WorkflowOptions($"delayed-{Guid.NewGuid()}", $"tq-{Guid.NewGuid()}")
        {
            StartDelay = TimeSpan.FromMinutes(45),
            StartSignal = "Finish",
        });

        var history = (await handle.FetchHistoryAsync()).Events.ToList();
        Assert.Equal(TimeSpan.FromMinutes(45), history[0].WorkflowExecutionStartedEventAttributes.FirstWorkflowTaskBackoff.ToTimeSpan());
        Assert.Equal([EventType.WorkflowExecutionStarted, EventType.WorkflowExecutionSignaled], history.Select(e => e.EventType));
        await handle.TerminateAsync("done");
    }

    [Fact]
    public async Task BuildId_IsRecordedOnWorkflowTaskCompleted_AndResetStickyTaskQueueHandsTheRunToAnyWorker()
    {
        var client = await server.ConnectClientAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        WorkflowHandle<MetadataWorkflow> handle;
#pragma warning disable CS0618 // BuildId is what the SDK's own test sets
        await using (WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue) { BuildId = "1.0" }
            .AddWorkflow<MetadataWorkflow>().AddActivity(PausableActivities.QuickAsync)))
        {
            handle = await client.StartWorkflowAsync((MetadataWorkflow wf) => wf.RunAsync(), new WorkflowOptions($"build-{Guid.NewGuid()}", taskQueue));
            await WaitForEventAsync(handle, EventType.ActivityTaskCompleted, TimeSpan.FromSeconds(60), "the activity never completed");
            Assert.Equal("1.0", await handle.QueryAsync(wf => wf.BuildId));
        }
        var completed = (await handle.FetchHistoryAsync()).Events.Where(e => e.EventType == EventType.WorkflowTaskCompleted).ToList();
#pragma warning disable CS0612 // deprecated in the API, still what the SDK stamps and reads back without worker versioning
        Assert.All(completed, e => Assert.Equal("1.0", e.WorkflowTaskCompletedEventAttributes.WorkerVersion?.BuildId));
#pragma warning restore CS0612

        await client.WorkflowService.ResetStickyTaskQueueAsync(new ResetStickyTaskQueueRequest
        {
            Namespace = server.Namespace,
            Execution = new WorkflowExecution { WorkflowId = handle.Id },
        });

        await using (WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue) { BuildId = "1.1" }
            .AddWorkflow<MetadataWorkflow>().AddActivity(PausableActivities.QuickAsync)))
        {
            Assert.Equal("1.0", await handle.QueryAsync(wf => wf.BuildId));
            await handle.SignalAsync(wf => wf.FinishAsync());
            await handle.GetResultAsync();
            Assert.Equal("1.1", await handle.QueryAsync(wf => wf.BuildId));
        }
#pragma warning restore CS0618
    }

    [Fact]
    public async Task ContinueAsNewSuggested_PastTheConfiguredHistoryLength()
    {
        await using var host = await DevServerHost.StartAsync(new DevServerOptions { Port = 0, SuggestContinueAsNewHistoryLength = 12 });
        var client = await ConnectAsync(host);
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<MetadataWorkflow>().AddActivity(PausableActivities.QuickAsync));
        var handle = await client.StartWorkflowAsync((MetadataWorkflow wf) => wf.RunAsync(), new WorkflowOptions($"can-{Guid.NewGuid()}", taskQueue));

        Assert.False(await handle.QueryAsync(wf => wf.ContinueAsNewSuggested));
        await WaitForEventAsync(handle, EventType.ActivityTaskCompleted, TimeSpan.FromSeconds(60), "the activity never completed");
        // A new workflow task after the history passed 12 events carries the suggestion.
        await handle.SignalAsync(wf => wf.FinishAsync());
        await handle.GetResultAsync();
        var started = (await handle.FetchHistoryAsync()).Events.Where(e => e.EventType == EventType.WorkflowTaskStarted).ToList();
        Assert.False(started[0].WorkflowTaskStartedEventAttributes.SuggestContinueAsNew);
        Assert.True(started[^1].WorkflowTaskStartedEventAttributes.SuggestContinueAsNew);
    }

    [Fact]
    public async Task UnsupportedCommand_FailsTheWorkflowTaskWithFeatureDisabled_AndSchedulesANewOne()
    {
        var client = await server.ConnectClientAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        var service = client.WorkflowService;
        var workflowId = $"nexus-{Guid.NewGuid()}";
        await service.StartWorkflowExecutionAsync(new StartWorkflowExecutionRequest
        {
            Namespace = server.Namespace,
            WorkflowId = workflowId,
            WorkflowType = new Temporalio.Api.Common.V1.WorkflowType { Name = "RawWorkflow" },
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = taskQueue },
            RequestId = Guid.NewGuid().ToString(),
        });
        var task = await service.PollWorkflowTaskQueueAsync(new PollWorkflowTaskQueueRequest
        {
            Namespace = server.Namespace,
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = taskQueue },
            Identity = "raw-worker",
        });

        var error = await Assert.ThrowsAsync<Temporalio.Exceptions.RpcException>(() => service.RespondWorkflowTaskCompletedAsync(new RespondWorkflowTaskCompletedRequest
        {
            Namespace = server.Namespace,
            TaskToken = task.TaskToken,
            Identity = "raw-worker",
            Commands =
            {
                new Command
                {
                    CommandType = CommandType.ScheduleNexusOperation,
                    ScheduleNexusOperationCommandAttributes = new ScheduleNexusOperationCommandAttributes { Endpoint = "e", Service = "s", Operation = "o" },
                },
            },
        }));

        Assert.Equal(Temporalio.Exceptions.RpcException.StatusCode.InvalidArgument, error.Code);
        var history = (await client.GetWorkflowHandle(workflowId).FetchHistoryAsync()).Events.ToList();
        Assert.Equal(
            [EventType.WorkflowExecutionStarted, EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted, EventType.WorkflowTaskFailed, EventType.WorkflowTaskScheduled],
            history.Select(e => e.EventType));
        Assert.Equal(WorkflowTaskFailedCause.FeatureDisabled, history[3].WorkflowTaskFailedEventAttributes.Cause);
        await client.GetWorkflowHandle(workflowId).TerminateAsync("done");
    }

    [Fact]
    public async Task PauseActivity_CancelsTheRunningAttemptWithReasonPaused_AndDescribeShowsItPaused()
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<ActivityWorkflow>().AddActivity(PausableActivities.HeartbeatUntilInterruptedAsync));
        await using var _ = worker;
        var handle = await client.StartWorkflowAsync((ActivityWorkflow wf) => wf.RunAsync("pause-me"), new WorkflowOptions($"pause-{Guid.NewGuid()}", taskQueue));
        await WaitForEventAsync(handle, EventType.ActivityTaskScheduled, TimeSpan.FromSeconds(60), "the activity was not scheduled");
        await Eventually.TrueAsync(async () => (await PendingActivitiesAsync(client, handle.Id)).Any(a => a.State == PendingActivityState.Started),
            TimeSpan.FromSeconds(60), "the activity never started");

        await client.WorkflowService.PauseActivityAsync(new PauseActivityRequest
        {
            Namespace = server.Namespace,
            Execution = new WorkflowExecution { WorkflowId = handle.Id, RunId = handle.ResultRunId },
            Type = "HeartbeatUntilInterrupted",
            Reason = "maintenance",
        });

        Assert.True(Assert.Single((await PendingActivitiesAsync(client, handle.Id))).Paused);
        Assert.Equal("Paused paused=True reset=False", await handle.GetResultAsync());
    }

    [Fact]
    public async Task ResetActivity_TellsTheRunningAttemptOnItsHeartbeat_AndUnknownActivityIsNotFound()
    {
        var (client, taskQueue, worker) = await server.StartWorkerAsync(o => o.AddWorkflow<ActivityWorkflow>().AddActivity(PausableActivities.HeartbeatUntilInterruptedAsync));
        await using var _ = worker;
        var handle = await client.StartWorkflowAsync((ActivityWorkflow wf) => wf.RunAsync("reset-me"), new WorkflowOptions($"reset-{Guid.NewGuid()}", taskQueue));
        await Eventually.TrueAsync(async () => (await PendingActivitiesAsync(client, handle.Id)).Any(a => a.State == PendingActivityState.Started),
            TimeSpan.FromSeconds(60), "the activity never started");
        var execution = new WorkflowExecution { WorkflowId = handle.Id, RunId = handle.ResultRunId };

        var missing = await Assert.ThrowsAsync<Temporalio.Exceptions.RpcException>(() => client.WorkflowService.ResetActivityAsync(
            new ResetActivityRequest { Namespace = server.Namespace, Execution = execution, Id = "no-such-activity" }));
        Assert.Equal(Temporalio.Exceptions.RpcException.StatusCode.NotFound, missing.Code);

        await client.WorkflowService.ResetActivityAsync(new ResetActivityRequest { Namespace = server.Namespace, Execution = execution, Type = "HeartbeatUntilInterrupted" });

        Assert.Equal("Reset paused=False reset=True", await handle.GetResultAsync());
    }

    [Fact]
    public async Task CronWorkflow_WaitsForEachCronTime_AndEveryRunSeesThePreviousResult()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 30, TimeSpan.Zero));
        await using var host = await DevServerHost.StartAsync(new DevServerOptions { Port = 0 }, timeProvider: time);
        var client = await ConnectAsync(host);
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<CronWorkflow>());
        var handle = await client.StartWorkflowAsync((CronWorkflow wf) => wf.RunAsync(), new WorkflowOptions($"cron-{Guid.NewGuid()}", taskQueue)
        {
            CronSchedule = "* * * * *",
        });
        var first = (await handle.FetchHistoryAsync()).Events.First().WorkflowExecutionStartedEventAttributes;
        Assert.Equal(TimeSpan.FromSeconds(30), first.FirstWorkflowTaskBackoff.ToTimeSpan());

        var results = new List<string>();
        for (var minute = 1; minute <= 3; minute++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            await Eventually.TrueAsync(async () => await CompletedRunsAsync(client, handle.Id) >= minute, TimeSpan.FromSeconds(60), $"cron run {minute} did not complete");
        }

        var runs = new List<string>();
        await foreach (var execution in client.ListWorkflowsAsync($"WorkflowId = '{handle.Id}' AND ExecutionStatus = 'Completed'"))
        {
            var result = (await client.GetWorkflowHandle(handle.Id, execution.RunId).FetchHistoryAsync()).Events.Last()
                .WorkflowExecutionCompletedEventAttributes;
            runs.Add(DataConverter.Default.PayloadConverter.ToValue<string>(result.Result.Payloads_.Single()));
            Assert.False(string.IsNullOrEmpty(result.NewExecutionRunId));
        }
        Assert.Equal(["run 1", "run 2", "run 3"], runs.Order());
        await handle.TerminateAsync("done");
    }

    private async Task<IReadOnlyList<Temporalio.Api.Workflow.V1.PendingActivityInfo>> PendingActivitiesAsync(TemporalClient client, string workflowId) =>
        (await client.WorkflowService.DescribeWorkflowExecutionAsync(new DescribeWorkflowExecutionRequest
        {
            Namespace = server.Namespace,
            Execution = new WorkflowExecution { WorkflowId = workflowId },
        })).PendingActivities;

    private static async Task<int> CompletedRunsAsync(TemporalClient client, string workflowId) =>
        (int)(await client.CountWorkflowsAsync($"WorkflowId = '{workflowId}' AND ExecutionStatus = 'Completed'")).Count;
}
