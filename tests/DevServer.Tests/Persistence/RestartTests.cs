using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Time.Testing;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Persistence;

/// <summary>
/// Every kind of state survives a restart of the server on the same SQLite file: executions and histories,
/// visibility and search attributes, pending workflow and activity tasks, timers, signals, updates, request-id
/// dedup, children, namespaces, and retention. Workers stay connected across the restart, as to a real server.
/// </summary>
public sealed class RestartTests
{
    private static readonly SearchAttributeKey<string> Tenant = SearchAttributeKey.CreateKeyword("TenantId");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Workflow]
    public sealed class GreetThenWaitWorkflow
    {
        private string? _finish;

        [WorkflowRun]
        public async Task<string> RunAsync(string name)
        {
            var greeting = await Workflow.ExecuteActivityAsync(() => Greeter.Greet(name), new ActivityOptions { StartToCloseTimeout = TimeSpan.FromMinutes(1) });
            await Workflow.WaitConditionAsync(() => _finish is not null);
            return $"{greeting}/{_finish}";
        }

        [WorkflowSignal]
        public Task FinishAsync(string value)
        {
            _finish = value;
            return Task.CompletedTask;
        }

        [WorkflowUpdate]
        public Task<string> EchoAsync(string value) => Task.FromResult("echo:" + value);
    }

    public static class Greeter
    {
        [Activity]
        public static string Greet(string name) => "hello " + name;
    }

    [Fact]
    public async Task OpenWorkflow_ServerRestarts_ContinuesCompletesOnceAndKeepsHistoryAndVisibility()
    {
        await using var server = await new PersistentServer().StartAsync();
        var client = await server.ConnectAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<GreetThenWaitWorkflow>().AddActivity(Greeter.Greet));
        var handle = await client.StartWorkflowAsync((GreetThenWaitWorkflow wf) => wf.RunAsync("ada"), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue)
        {
            TypedSearchAttributes = new SearchAttributeCollection.Builder().Set(Tenant, "tenant-a").ToSearchAttributeCollection(),
        });
        await ScenarioHelpers.WaitForEventAsync(handle, EventType.ActivityTaskCompleted, Wait, "the activity completes before the restart");

        await server.RestartAsync();

        // The worker's cached run is gone with the sticky queue: its next task comes on the normal queue with full history.
        Assert.Equal("echo:x", await handle.ExecuteUpdateAsync(wf => wf.EchoAsync("x")));
        await handle.SignalAsync(wf => wf.FinishAsync("done"));
        Assert.Equal("hello ada/done", await handle.GetResultAsync());
        var history = await handle.FetchHistoryAsync();
        Assert.Single(history.Events, e => e.EventType == EventType.ActivityTaskCompleted);
        Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionCompleted);
        await Replay.AssertDeterministicAsync(history, typeof(GreetThenWaitWorkflow));

        await server.RestartAsync();
        var afterRestart = await handle.FetchHistoryAsync();
        Assert.Equal(history.Events.Select(e => (e.EventId, e.EventType)), afterRestart.Events.Select(e => (e.EventId, e.EventType)));
        Assert.Equal(WorkflowExecutionStatus.Completed, (await handle.DescribeAsync()).Status);
        var listed = await client.ListWorkflowsAsync($"WorkflowId = '{handle.Id}' AND TenantId = 'tenant-a'").ToListAsync();
        Assert.Equal("tenant-a", Assert.Single(listed).TypedSearchAttributes.Get(Tenant));
        Assert.Equal("hello ada/done", await handle.GetResultAsync());
    }

    [Workflow]
    public sealed class SleepWorkflow
    {
        [WorkflowRun]
        public async Task<string> RunAsync()
        {
            await Workflow.DelayAsync(TimeSpan.FromHours(1));
            return "woke";
        }
    }

    [Fact]
    public async Task Timer_DueWhileTheServerIsDown_FiresWhenItStartsAgain()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await new PersistentServer(time).StartAsync();
        var client = await server.ConnectAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<SleepWorkflow>());
        var handle = await client.StartWorkflowAsync((SleepWorkflow wf) => wf.RunAsync(), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        await Eventually.TrueAsync(async () => (await handle.FetchHistoryAsync()).Events.Last().EventType == EventType.TimerStarted, Wait,
            "the workflow parks on its timer");

        await server.StopAsync();
        time.Advance(TimeSpan.FromHours(2));
        await server.StartAsync();

        Assert.Equal("woke", await handle.GetResultAsync());
        var history = await handle.FetchHistoryAsync();
        Assert.Single(history.Events, e => e.EventType == EventType.TimerFired);
        await Replay.AssertDeterministicAsync(history, typeof(SleepWorkflow));
    }

    [Fact]
    public async Task QueuedActivity_ServerRestarts_IsDispatchedAgainAndCompletesOnce()
    {
        await using var server = await new PersistentServer().StartAsync();
        var client = await server.ConnectAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        var id = $"wf-{Guid.NewGuid()}";
        WorkflowHandle<GreetThenWaitWorkflow, string> handle;
        // No activity worker yet: the activity waits on its queue.
        await using (var workflowsOnly = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<GreetThenWaitWorkflow>()))
        {
            handle = await client.StartWorkflowAsync((GreetThenWaitWorkflow wf) => wf.RunAsync("bob"), new WorkflowOptions(id, taskQueue));
            await ScenarioHelpers.WaitForEventAsync(handle, EventType.ActivityTaskScheduled, Wait, "the activity is scheduled");
        }

        await server.RestartAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<GreetThenWaitWorkflow>().AddActivity(Greeter.Greet));
        await ScenarioHelpers.WaitForEventAsync(handle, EventType.ActivityTaskCompleted, Wait, "the queued activity runs after the restart");
        await handle.SignalAsync(wf => wf.FinishAsync("ok"));

        Assert.Equal("hello bob/ok", await handle.GetResultAsync());
        var history = await handle.FetchHistoryAsync();
        var started = Assert.Single(history.Events, e => e.EventType == EventType.ActivityTaskStarted);
        Assert.Equal(1, started.ActivityTaskStartedEventAttributes.Attempt);
    }

    [Workflow]
    public sealed class SlowActivityWorkflow
    {
        /// <summary>Without a heartbeat timeout only start-to-close (1 min) ends a hung attempt; with one, it is 5 min.</summary>
        [WorkflowRun]
        public Task<string> RunAsync(bool heartbeats) => Workflow.ExecuteActivityAsync(() => HangingActivity.RunAsync(), new ActivityOptions
        {
            StartToCloseTimeout = heartbeats ? TimeSpan.FromMinutes(10) : TimeSpan.FromMinutes(1),
            HeartbeatTimeout = heartbeats ? TimeSpan.FromMinutes(5) : null,
            RetryPolicy = new RetryPolicy { InitialInterval = heartbeats ? TimeSpan.FromMilliseconds(1) : TimeSpan.FromSeconds(1), MaximumAttempts = 3 },
        });
    }

    public static class HangingActivity
    {
        private static readonly ConcurrentDictionary<string, TaskCompletionSource> s_firstAttempts = new();

        public static Task FirstAttemptStarted(string workflowId) => FirstAttempt(workflowId).Task;

        private static TaskCompletionSource FirstAttempt(string workflowId) =>
            s_firstAttempts.GetOrAdd(workflowId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        [Activity]
        public static async Task<string> RunAsync()
        {
            var info = ActivityExecutionContext.Current.Info;
            if (info.Attempt == 1)
            {
                FirstAttempt(info.WorkflowId ?? throw new InvalidOperationException("a workflow activity has a workflow id")).TrySetResult();
                // Never finishes on its own: a timeout (or the restart) ends it.
                await Task.Delay(Timeout.Infinite, ActivityExecutionContext.Current.CancellationToken);
            }
            return $"attempt-{info.Attempt}";
        }
    }

    [Fact]
    public async Task StartedActivity_ServerRestarts_TimesOutCountedFromItsRecordedStartAndRetries()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await new PersistentServer(time).StartAsync();
        var client = await server.ConnectAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<SlowActivityWorkflow>().AddActivity(HangingActivity.RunAsync));
        var handle = await client.StartWorkflowAsync((SlowActivityWorkflow wf) => wf.RunAsync(false), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        await HangingActivity.FirstAttemptStarted(handle.Id).WaitAsync(Wait);
        await Eventually.TrueAsync(async () => (await PendingActivitiesAsync(client, handle.Id)) is [{ State: PendingActivityState.Started }], Wait,
            "the server has recorded the first attempt as started");

        await server.RestartAsync();
        time.Advance(TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(async () => (await PendingActivitiesAsync(client, handle.Id)) is [{ Attempt: 2 }], Wait,
            "the first attempt times out after the restart and a retry is due");
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal("attempt-2", await handle.GetResultAsync());
        var started = Assert.Single((await handle.FetchHistoryAsync()).Events, e => e.EventType == EventType.ActivityTaskStarted);
        Assert.Equal(2, started.ActivityTaskStartedEventAttributes.Attempt);
        Assert.Equal(TimeoutType.StartToClose, started.ActivityTaskStartedEventAttributes.LastFailure.TimeoutFailureInfo.TimeoutType);
    }

    [Fact]
    public async Task StartedActivity_WorkersRunInTheServersProcess_IsRetriedAtOnceAfterARestart()
    {
        // Real time with a five-minute heartbeat timeout: within the test only the restart can end the first attempt.
        await using var server = await new PersistentServer(configure: o => o.WorkersInProcess = true).StartAsync();
        var client = await server.ConnectAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<SlowActivityWorkflow>().AddActivity(HangingActivity.RunAsync));
        var handle = await client.StartWorkflowAsync((SlowActivityWorkflow wf) => wf.RunAsync(true), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        await HangingActivity.FirstAttemptStarted(handle.Id).WaitAsync(Wait);
        await Eventually.TrueAsync(async () => (await PendingActivitiesAsync(client, handle.Id)) is [{ State: PendingActivityState.Started }], Wait,
            "the server has recorded the first attempt as started");

        await server.RestartAsync();

        Assert.Equal("attempt-2", await handle.GetResultAsync());
        var started = Assert.Single((await handle.FetchHistoryAsync()).Events, e => e.EventType == EventType.ActivityTaskStarted);
        Assert.Equal(2, started.ActivityTaskStartedEventAttributes.Attempt);
        Assert.Equal(TimeoutType.Heartbeat, started.ActivityTaskStartedEventAttributes.LastFailure.TimeoutFailureInfo.TimeoutType);
    }

    [Fact]
    public async Task RequestIds_RepeatedAfterARestart_StartAndSignalOnlyOnce()
    {
        await using var server = await new PersistentServer().StartAsync();
        var client = await server.ConnectAsync();
        var workflowId = $"wf-{Guid.NewGuid()}";
        var start = new StartWorkflowExecutionRequest
        {
            Namespace = "default",
            WorkflowId = workflowId,
            WorkflowType = new Temporalio.Api.Common.V1.WorkflowType { Name = "NoWorker" },
            TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = $"tq-{Guid.NewGuid()}" },
            RequestId = "start-1",
        };
        var signal = new SignalWorkflowExecutionRequest
        {
            Namespace = "default",
            WorkflowExecution = new Temporalio.Api.Common.V1.WorkflowExecution { WorkflowId = workflowId },
            SignalName = "poke",
            RequestId = "signal-1",
        };
        var first = await client.Connection.WorkflowService.StartWorkflowExecutionAsync(start);
        await client.Connection.WorkflowService.SignalWorkflowExecutionAsync(signal);

        await server.RestartAsync();
        var repeated = await client.Connection.WorkflowService.StartWorkflowExecutionAsync(start);
        await client.Connection.WorkflowService.SignalWorkflowExecutionAsync(signal);

        Assert.Equal(first.RunId, repeated.RunId);
        var history = await client.GetWorkflowHandle(workflowId).FetchHistoryAsync();
        Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionSignaled);
        Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionStarted);
    }

    [Fact]
    public async Task CompletedUpdate_ServerRestarts_ItsOutcomeIsStillServed()
    {
        await using var server = await new PersistentServer().StartAsync();
        var client = await server.ConnectAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<GreetThenWaitWorkflow>().AddActivity(Greeter.Greet));
        var handle = await client.StartWorkflowAsync((GreetThenWaitWorkflow wf) => wf.RunAsync("cy"), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        Assert.Equal("echo:before", await handle.ExecuteUpdateAsync(wf => wf.EchoAsync("before"), new WorkflowUpdateOptions("update-1")));

        await server.RestartAsync();

        Assert.Equal("echo:before", await handle.GetUpdateHandle<string>("update-1").GetResultAsync());
        await handle.SignalAsync(wf => wf.FinishAsync("end"));
        Assert.Equal("hello cy/end", await handle.GetResultAsync());
    }

    [Workflow]
    public sealed class ParentWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(string childId) =>
            Workflow.ExecuteChildWorkflowAsync((ChildWorkflow wf) => wf.RunAsync(), new ChildWorkflowOptions { Id = childId });
    }

    [Workflow]
    public sealed class ChildWorkflow
    {
        private string? _value;

        [WorkflowRun]
        public async Task<string> RunAsync()
        {
            await Workflow.WaitConditionAsync(() => _value is not null);
            return "child:" + _value;
        }

        [WorkflowSignal]
        public Task SetAsync(string value)
        {
            _value = value;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task RunningChild_ServerRestarts_CompletesAndTheParentLearnsOfIt()
    {
        await using var server = await new PersistentServer().StartAsync();
        var client = await server.ConnectAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<ParentWorkflow>().AddWorkflow<ChildWorkflow>());
        var childId = $"child-{Guid.NewGuid()}";
        var parent = await client.StartWorkflowAsync((ParentWorkflow wf) => wf.RunAsync(childId), new WorkflowOptions($"parent-{Guid.NewGuid()}", taskQueue));
        await ScenarioHelpers.WaitForEventAsync(parent, EventType.ChildWorkflowExecutionStarted, Wait, "the child starts");

        await server.RestartAsync();
        await client.GetWorkflowHandle<ChildWorkflow>(childId).SignalAsync(wf => wf.SetAsync("v"));

        Assert.Equal("child:v", await parent.GetResultAsync());
        var history = await parent.FetchHistoryAsync();
        Assert.Single(history.Events, e => e.EventType == EventType.ChildWorkflowExecutionCompleted);
        await Replay.AssertDeterministicAsync(history, typeof(ParentWorkflow));
    }

    [Fact]
    public async Task RegisteredNamespace_ServerRestarts_KeepsItsIdAndDescription()
    {
        await using var server = await new PersistentServer().StartAsync();
        var client = await server.ConnectAsync();
        await client.Connection.WorkflowService.RegisterNamespaceAsync(new RegisterNamespaceRequest
        {
            Namespace = "persisted-ns",
            Description = "kept across restarts",
            WorkflowExecutionRetentionPeriod = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromDays(3)),
        });
        var before = await client.Connection.WorkflowService.DescribeNamespaceAsync(new DescribeNamespaceRequest { Namespace = "persisted-ns" });

        await server.RestartAsync();

        var after = await client.Connection.WorkflowService.DescribeNamespaceAsync(new DescribeNamespaceRequest { Namespace = "persisted-ns" });
        Assert.Equal(before.NamespaceInfo.Id, after.NamespaceInfo.Id);
        Assert.Equal("kept across restarts", after.NamespaceInfo.Description);
        Assert.Equal(TimeSpan.FromDays(3), after.Config.WorkflowExecutionRetentionTtl.ToTimeSpan());
    }

    [Workflow]
    public sealed class QuickWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync() => Task.FromResult("quick");
    }

    [Fact]
    public async Task ClosedRun_RetentionPassesAfterARestart_IsDroppedFromTheDatabase()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await new PersistentServer(time, retention: TimeSpan.FromHours(1)).StartAsync();
        var client = await server.ConnectAsync();
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<QuickWorkflow>());
        var handle = await client.StartWorkflowAsync((QuickWorkflow wf) => wf.RunAsync(), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        Assert.Equal("quick", await handle.GetResultAsync());

        await server.RestartAsync();
        Assert.Equal(WorkflowExecutionStatus.Completed, (await handle.DescribeAsync()).Status);
        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(async () => await IsGoneAsync(handle), Wait, "retention drops the closed run");

        await server.RestartAsync();
        Assert.True(await IsGoneAsync(handle));
    }

    private static async Task<IList<Temporalio.Api.Workflow.V1.PendingActivityInfo>> PendingActivitiesAsync(TemporalClient client, string workflowId) =>
        (await client.Connection.WorkflowService.DescribeWorkflowExecutionAsync(new DescribeWorkflowExecutionRequest
        {
            Namespace = "default",
            Execution = new Temporalio.Api.Common.V1.WorkflowExecution { WorkflowId = workflowId },
        })).PendingActivities;

    private static async Task<bool> IsGoneAsync(WorkflowHandle handle)
    {
        try
        {
            await handle.DescribeAsync();
            return false;
        }
        catch (RpcException error) when (error.Code == RpcException.StatusCode.NotFound)
        {
            return true;
        }
    }
}
