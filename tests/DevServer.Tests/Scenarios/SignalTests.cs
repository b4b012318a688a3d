using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Converters;
using Temporalio.Worker;
using Temporalio.Workflows;
using static AgentOrchestrator.DevServer.Tests.ScenarioHelpers;

namespace AgentOrchestrator.DevServer.Tests.Scenarios;

/// <summary>
/// Holds a workflow task open: workflow code blocks its thread at <see cref="PassOnce"/> until the test
/// releases it (workers using it run with DebugMode, which turns the SDK's deadlock detector off). Each
/// armed gate blocks once, so retried tasks and replays pass straight through; unarmed keys never block.
/// </summary>
internal static class WorkflowTaskGate
{
    private sealed class Gate
    {
        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Released { get; } = new();

        public int Used;
    }

    private static readonly ConcurrentDictionary<string, Gate> Gates = new();

    public static void Arm(string key) => Gates[key] = new Gate();

    public static void PassOnce(string key)
    {
        if (Gates.TryGetValue(key, out var gate) && Interlocked.Exchange(ref gate.Used, 1) == 0)
        {
            gate.Entered.Set();
            // Bounded, so a failed test cannot wedge the worker forever.
            gate.Released.Wait(TimeSpan.FromSeconds(90));
        }
    }

    public static Task WaitEnteredAsync(string key) =>
        Eventually.TrueAsync(() => Gates[key].Entered.IsSet, TimeSpan.FromSeconds(60), $"workflow task held at gate {key}");

    public static void Release(string key)
    {
        if (Gates.TryGetValue(key, out var gate))
        {
            gate.Released.Set();
        }
    }
}

/// <summary>Reads a test-owned server's engine state, for races whose evidence the API does not show.</summary>
internal static class EngineProbe
{
    /// <summary>Whether an event of <paramref name="type"/> waits in the run's buffer (a workflow task is in flight).</summary>
    public static bool IsBuffered(DevServerHost host, string workflowId, EventType type)
    {
        if (!host.Engine.GetNamespace(null).Chains.TryGetValue(workflowId, out var chain))
        {
            return false;
        }
        lock (chain)
        {
            return chain.Current is { } run && run.Buffer.Any(e => e.EventType == type);
        }
    }
}

/// <summary>Spec 8.1 scenarios 11-13: signal buffering, UnhandledCommand and signal-with-start.</summary>
public sealed class SignalTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    /// <summary>Blocks in its first task (after starting a timer command) so a signal arrives mid-task.</summary>
    [Workflow]
    public sealed class SignalDuringTaskWorkflow
    {
        private readonly List<string> _signals = [];

        [WorkflowRun]
        public async Task<string> RunAsync()
        {
            // The first task's command: a timer that never matters.
            _ = Workflow.DelayAsync(TimeSpan.FromHours(1));
            WorkflowTaskGate.PassOnce(Workflow.Info.WorkflowId);
            await Workflow.WaitConditionAsync(() => _signals.Count > 0);
            return string.Join(",", _signals);
        }

        [WorkflowSignal]
        public Task AddAsync(string value)
        {
            _signals.Add(value);
            return Task.CompletedTask;
        }
    }

    /// <summary>Completes in the task that handles its first signal, held open so a second one races it.</summary>
    [Workflow]
    public sealed class CompleteOnSignalWorkflow
    {
        private readonly List<string> _signals = [];

        [WorkflowRun]
        public async Task<string> RunAsync()
        {
            await Workflow.WaitConditionAsync(() => _signals.Count > 0);
            WorkflowTaskGate.PassOnce(Workflow.Info.WorkflowId);
            return string.Join(",", _signals);
        }

        [WorkflowSignal]
        public Task AddAsync(string value)
        {
            _signals.Add(value);
            return Task.CompletedTask;
        }
    }

    [Workflow]
    public sealed class CollectWorkflow
    {
        private readonly List<string> _signals = [];

        [WorkflowRun]
        public async Task<string> RunAsync(int expected)
        {
            await Workflow.WaitConditionAsync(() => _signals.Count >= expected);
            return string.Join(",", _signals);
        }

        [WorkflowSignal]
        public Task AddAsync(string value)
        {
            _signals.Add(value);
            return Task.CompletedTask;
        }
    }

    private static T Decode<T>(Payload payload) => (T)DataConverter.Default.PayloadConverter.ToValue(payload, typeof(T))!;

    private Task<(TemporalClient Client, string TaskQueue, WorkerScope Worker)> StartWorkerAsync<TWorkflow>() =>
        server.StartWorkerAsync(options =>
        {
            options.DebugMode = true;
            options.AddWorkflow<TWorkflow>();
        });

    [Fact]
    public async Task Signal_DuringInFlightWorkflowTask_WrittenAfterCompletionAndDeliveredInNextTask()
    {
        var (client, taskQueue, worker) = await StartWorkerAsync<SignalDuringTaskWorkflow>();
        await using var _ = worker;
        var id = $"wf-{Guid.NewGuid()}";
        WorkflowTaskGate.Arm(id);
        try
        {
            var handle = await client.StartWorkflowAsync((SignalDuringTaskWorkflow wf) => wf.RunAsync(), new WorkflowOptions(id, taskQueue));
            await WorkflowTaskGate.WaitEnteredAsync(id);
            // The first task is started and held: the signal must wait for it to finish.
            await handle.SignalAsync(wf => wf.AddAsync("hello"));
            var midway = EventTypes(await handle.FetchHistoryAsync());
            Assert.Equal([EventType.WorkflowExecutionStarted, EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted], midway);
            WorkflowTaskGate.Release(id);

            Assert.Equal("hello", await handle.GetResultAsync());
            var history = await handle.FetchHistoryAsync();
            Assert.Equal(
                [
                    .. FirstWorkflowTask,
                    EventType.TimerStarted, EventType.WorkflowExecutionSignaled,
                    .. CompletingWorkflowTask,
                ],
                EventTypes(history));
            var events = history.Events.ToList();
            Assert.Equal(4, events[4].TimerStartedEventAttributes.WorkflowTaskCompletedEventId);
            Assert.Equal("Add", events[5].WorkflowExecutionSignaledEventAttributes.SignalName);
            Assert.Equal("hello", Decode<string>(events[5].WorkflowExecutionSignaledEventAttributes.Input.Payloads_.Single()));
            Assert.Equal(7, events[7].WorkflowTaskStartedEventAttributes.ScheduledEventId);
            await Replay.AssertDeterministicAsync(history, typeof(SignalDuringTaskWorkflow));
        }
        finally
        {
            WorkflowTaskGate.Release(id);
        }
    }

    [Fact]
    public async Task CompleteWorkflow_SignalArrivesDuringCompletingTask_FailsWithUnhandledCommandThenHandlesSignal()
    {
        var (client, taskQueue, worker) = await StartWorkerAsync<CompleteOnSignalWorkflow>();
        await using var _ = worker;
        var id = $"wf-{Guid.NewGuid()}";
        WorkflowTaskGate.Arm(id);
        try
        {
            var handle = await client.StartWorkflowAsync((CompleteOnSignalWorkflow wf) => wf.RunAsync(), new WorkflowOptions(id, taskQueue));
            await WaitForEventAsync(handle, EventType.WorkflowTaskCompleted, TimeSpan.FromSeconds(60), "first workflow task completed");
            await handle.SignalAsync(wf => wf.AddAsync("first"));
            await WorkflowTaskGate.WaitEnteredAsync(id);
            // The task handling "first" is about to complete the workflow when "second" arrives.
            await handle.SignalAsync(wf => wf.AddAsync("second"));
            WorkflowTaskGate.Release(id);

            Assert.Equal("first,second", await handle.GetResultAsync());
            var history = await handle.FetchHistoryAsync();
            Assert.Equal(
                [
                    .. FirstWorkflowTask,
                    EventType.WorkflowExecutionSignaled, EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted, EventType.WorkflowTaskFailed,
                    EventType.WorkflowExecutionSignaled, .. WorkflowTask,
                    EventType.WorkflowExecutionCompleted,
                ],
                EventTypes(history));
            var events = history.Events.ToList();
            var failed = events[7].WorkflowTaskFailedEventAttributes;
            Assert.Equal(WorkflowTaskFailedCause.UnhandledCommand, failed.Cause);
            Assert.Equal(6, failed.ScheduledEventId);
            Assert.Equal(7, failed.StartedEventId);
            Assert.Equal("second", Decode<string>(events[8].WorkflowExecutionSignaledEventAttributes.Input.Payloads_.Single()));
            await Replay.AssertDeterministicAsync(history, typeof(CompleteOnSignalWorkflow));
        }
        finally
        {
            WorkflowTaskGate.Release(id);
        }
    }

    [Fact]
    public async Task SignalWithStart_WorkflowAbsent_StartsRunWithSignalBeforeFirstTask()
    {
        var (client, taskQueue, worker) = await StartWorkerAsync<CollectWorkflow>();
        await using var _ = worker;
        var options = new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue);
        options.SignalWithStart((CollectWorkflow wf) => wf.AddAsync("a"));
        var handle = await client.StartWorkflowAsync((CollectWorkflow wf) => wf.RunAsync(1), options);

        Assert.Equal("a", await handle.GetResultAsync());
        var history = await handle.FetchHistoryAsync();
        Assert.Equal(
            [
                EventType.WorkflowExecutionStarted, EventType.WorkflowExecutionSignaled, EventType.WorkflowTaskScheduled,
                EventType.WorkflowTaskStarted, EventType.WorkflowTaskCompleted, EventType.WorkflowExecutionCompleted,
            ],
            EventTypes(history));
        var signaled = history.Events.ElementAt(1).WorkflowExecutionSignaledEventAttributes;
        Assert.Equal("Add", signaled.SignalName);
        Assert.Equal("a", Decode<string>(signaled.Input.Payloads_.Single()));
        Assert.Equal(handle.ResultRunId, (await handle.DescribeAsync()).RunId);
        await Replay.AssertDeterministicAsync(history, typeof(CollectWorkflow));
    }

    [Fact]
    public async Task SignalWithStart_PreviousRunClosed_StartsNewRun()
    {
        var (client, taskQueue, worker) = await StartWorkerAsync<CollectWorkflow>();
        await using var _ = worker;
        var id = $"wf-{Guid.NewGuid()}";
        var first = await client.StartWorkflowAsync((CollectWorkflow wf) => wf.RunAsync(0), new WorkflowOptions(id, taskQueue));
        Assert.Equal(string.Empty, await first.GetResultAsync());

        var options = new WorkflowOptions(id, taskQueue);
        options.SignalWithStart((CollectWorkflow wf) => wf.AddAsync("again"));
        var second = await client.StartWorkflowAsync((CollectWorkflow wf) => wf.RunAsync(1), options);
        Assert.NotEqual(first.ResultRunId, second.ResultRunId);
        Assert.Equal("again", await second.GetResultAsync());
        var history = await second.FetchHistoryAsync();
        Assert.Equal(
            [EventType.WorkflowExecutionStarted, EventType.WorkflowExecutionSignaled, EventType.WorkflowTaskScheduled],
            history.Events.Take(3).Select(e => e.EventType));
        await Replay.AssertDeterministicAsync(history, typeof(CollectWorkflow));
    }

    [Fact]
    public async Task SignalWithStart_WorkflowRunning_OnlySignalsExistingRun()
    {
        var (client, taskQueue, worker) = await StartWorkerAsync<CollectWorkflow>();
        await using var _ = worker;
        var id = $"wf-{Guid.NewGuid()}";
        var first = await client.StartWorkflowAsync((CollectWorkflow wf) => wf.RunAsync(2), new WorkflowOptions(id, taskQueue));
        await first.SignalAsync(wf => wf.AddAsync("a"));

        var options = new WorkflowOptions(id, taskQueue);
        options.SignalWithStart((CollectWorkflow wf) => wf.AddAsync("b"));
        var second = await client.StartWorkflowAsync((CollectWorkflow wf) => wf.RunAsync(99), options);
        Assert.Equal(first.ResultRunId, second.ResultRunId);

        Assert.Equal("a,b", await first.GetResultAsync());
        var history = await first.FetchHistoryAsync();
        var started = Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionStarted);
        // The run kept its own input: signal-with-start did not start anything.
        Assert.Equal(2, Decode<int>(started.WorkflowExecutionStartedEventAttributes.Input.Payloads_.Single()));
        Assert.Equal(["a", "b"], history.Events.Where(e => e.EventType == EventType.WorkflowExecutionSignaled)
            .Select(e => Decode<string>(e.WorkflowExecutionSignaledEventAttributes.Input.Payloads_.Single())));
        Assert.Equal(EventType.WorkflowExecutionCompleted, history.Events.Last().EventType);
        await Replay.AssertDeterministicAsync(history, typeof(CollectWorkflow));
    }
}
