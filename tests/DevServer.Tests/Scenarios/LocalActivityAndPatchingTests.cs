using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Converters;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>Spec 8.1 scenarios 23-24: long local activities kept alive by workflow-task heartbeats, and patching under constant replay.</summary>
public sealed class LocalActivityAndPatchingTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class LongLocalActivityWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(int milliseconds) =>
            Workflow.ExecuteLocalActivityAsync(() => Work(milliseconds), new LocalActivityOptions { StartToCloseTimeout = TimeSpan.FromSeconds(30) });

        /// <summary>Its duration is the scenario: it must outlast 80 % of the 2 s workflow task timeout.</summary>
        [Activity]
        public static async Task<string> Work(int milliseconds)
        {
            await Task.Delay(milliseconds, ActivityExecutionContext.Current.CancellationToken);
            return $"worked {milliseconds}ms";
        }
    }

    [Workflow]
    public sealed class LocalRetryBackoffWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync() =>
            Workflow.ExecuteLocalActivityAsync(() => FailFirstAttempt(), new LocalActivityOptions
            {
                StartToCloseTimeout = TimeSpan.FromSeconds(10),
                // A backoff above the local retry threshold is waited out with a server timer.
                LocalRetryThreshold = TimeSpan.FromSeconds(1),
                RetryPolicy = new() { InitialInterval = TimeSpan.FromSeconds(2), MaximumAttempts = 3 },
            });

        [Activity]
        public static string FailFirstAttempt()
        {
            var attempt = ActivityExecutionContext.Current.Info.Attempt;
            return attempt == 1 ? throw new InvalidOperationException("first attempt fails") : $"succeeded on attempt {attempt}";
        }
    }

    [Workflow]
    public sealed class PatchedWorkflow
    {
        [WorkflowRun]
        public async Task<string> RunAsync(string name)
        {
            var options = new ActivityOptions { StartToCloseTimeout = TimeSpan.FromSeconds(30) };
            var greeting = Workflow.Patched("new-greeting")
                ? await Workflow.ExecuteActivityAsync(() => NewGreeting(name), options)
                : await Workflow.ExecuteActivityAsync(() => OldGreeting(name), options);
            await Workflow.DelayAsync(TimeSpan.FromMilliseconds(200));
            var farewell = await Workflow.ExecuteActivityAsync(() => Farewell(name), options);
            return $"{greeting} {farewell}";
        }

        [Activity]
        public static string OldGreeting(string name) => $"Hi {name}.";

        [Activity]
        public static string NewGreeting(string name) => $"Hello, {name}!";

        [Activity]
        public static string Farewell(string name) => $"Bye, {name}.";
    }

    [Fact]
    public async Task ExecuteLocalActivityAsync_LongerThanWorkflowTaskTimeout_CompletesThroughTaskHeartbeats()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<LongLocalActivityWorkflow>()
            .AddActivity(LongLocalActivityWorkflow.Work));

        var handle = await client.StartWorkflowAsync((LongLocalActivityWorkflow wf) => wf.RunAsync(3500),
            new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue) { TaskTimeout = TimeSpan.FromSeconds(2) });
        Assert.Equal("worked 3500ms", await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        // A 3.5 s local activity can only finish under a 2 s task timeout if core's heartbeat tasks (sent at 80% of the
        // timeout) are completed and a new task scheduled each time: without them every task attempt times out and the
        // activity starts over. A heartbeat that a loaded machine delays past the timeout costs one task attempt
        // (WorkflowTaskTimedOut), which is the server behaving as Temporal does, so timeouts are not counted here.
        Assert.DoesNotContain(history.Events, e => e.EventType == EventType.WorkflowTaskFailed);
        Assert.True(history.Events.Count(e => e.EventType == EventType.WorkflowTaskCompleted) >= 2);
        var marker = Assert.Single(history.Events, e => e.EventType == EventType.MarkerRecorded);
        Assert.Equal("core_local_activity", marker.MarkerRecordedEventAttributes.MarkerName);
        var result = DataConverter.Default.PayloadConverter.ToValue<string>(marker.MarkerRecordedEventAttributes.Details["result"].Payloads_[0]);
        Assert.Equal("worked 3500ms", result);
        Assert.Equal(EventType.WorkflowTaskCompleted, history.Events.Single(e => e.EventId == marker.EventId - 1).EventType);
        Assert.Equal(EventType.WorkflowExecutionCompleted, history.Events.Last().EventType);
        await Replay.AssertDeterministicAsync(history, typeof(LongLocalActivityWorkflow));
    }

    [Fact]
    public async Task ExecuteLocalActivityAsync_RetryBackoffAboveLocalThreshold_WaitsOnServerTimerAndSucceeds()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<LocalRetryBackoffWorkflow>()
            .AddActivity(LocalRetryBackoffWorkflow.FailFirstAttempt));

        var handle = await client.StartWorkflowAsync((LocalRetryBackoffWorkflow wf) => wf.RunAsync(), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        Assert.Equal("succeeded on attempt 2", await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        var timer = Assert.Single(history.Events, e => e.EventType == EventType.TimerStarted);
        Assert.Equal(TimeSpan.FromSeconds(2), timer.TimerStartedEventAttributes.StartToFireTimeout.ToTimeSpan());
        var fired = Assert.Single(history.Events, e => e.EventType == EventType.TimerFired);
        Assert.Equal(timer.EventId, fired.TimerFiredEventAttributes.StartedEventId);
        var marker = history.Events.Last(e => e.EventType == EventType.MarkerRecorded);
        Assert.Equal("core_local_activity", marker.MarkerRecordedEventAttributes.MarkerName);
        Assert.True(marker.EventId > fired.EventId);
        Assert.DoesNotContain(history.Events, e => e.EventType is EventType.WorkflowTaskFailed or EventType.WorkflowTaskTimedOut);
        await Replay.AssertDeterministicAsync(history, typeof(LocalRetryBackoffWorkflow));
    }

    [Fact]
    public async Task Patched_NoWorkflowCacheAndReplay_StaysDeterministicWithChangeVersionSearchAttribute()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        // No cache: every workflow task replays the history from event 1, including the patch marker.
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue) { MaxCachedWorkflows = 0 }
            .AddWorkflow<PatchedWorkflow>()
            .AddActivity(PatchedWorkflow.OldGreeting)
            .AddActivity(PatchedWorkflow.NewGreeting)
            .AddActivity(PatchedWorkflow.Farewell));

        var handle = await client.StartWorkflowAsync((PatchedWorkflow wf) => wf.RunAsync("Ada"), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        Assert.Equal("Hello, Ada! Bye, Ada.", await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        Assert.DoesNotContain(history.Events, e => e.EventType is EventType.WorkflowTaskFailed or EventType.WorkflowTaskTimedOut);
        var marker = Assert.Single(history.Events, e => e.EventType == EventType.MarkerRecorded);
        Assert.Equal("core_patch", marker.MarkerRecordedEventAttributes.MarkerName);
        var upsert = Assert.Single(history.Events, e => e.EventType == EventType.UpsertWorkflowSearchAttributes);
        Assert.True(upsert.UpsertWorkflowSearchAttributesEventAttributes.SearchAttributes.IndexedFields.ContainsKey("TemporalChangeVersion"));
        // The SDK's flags are persisted so that replays take the same code paths as the original run.
        Assert.Contains(history.Events, e => e.WorkflowTaskCompletedEventAttributes?.SdkMetadata?.LangUsedFlags.Count > 0);
        Assert.Contains(history.Events, e => e.WorkflowTaskCompletedEventAttributes?.SdkMetadata?.CoreUsedFlags.Count > 0);
        Assert.Equal(3, history.Events.Count(e => e.EventType == EventType.ActivityTaskCompleted) + history.Events.Count(e => e.EventType == EventType.TimerFired));

        var description = await handle.DescribeAsync();
        Assert.Contains(description.TypedSearchAttributes.UntypedValues.Keys, key => key.Name == "TemporalChangeVersion");
        await Replay.AssertDeterministicAsync(history, typeof(PatchedWorkflow));
    }
}
