using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;

namespace AgentOrchestrator.Workflows.Tests;

/// <summary>HumanInput on a real DevServer: the provide-input update, its validator, the timeout's default path.</summary>
public sealed class InteractionWorkflowTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Fact]
    public async Task RequestAsync_ValidAnswer_PublishesInputRequestedAndReturnsAnswer()
    {
        var activities = new RecordingActivities();
        await RunAsync(activities, new InteractionTestInput(["approval"], null), async handle =>
        {
            RunLifecycleEvent requested = await InputRequestedAsync(activities, "approval");
            Assert.Equal("approval", requested.Step);
            InputRequestedData data = requested.Data!.Value.Deserialize<InputRequestedData>(JsonSerializerOptions.Web)!;
            Assert.Equal(new InputRequestedData("approval", InteractionTestWorkflow.Prompt, data.Schema, null), data);
            Assert.True(JsonElement.DeepEquals(InteractionTestWorkflow.Schema, data.Schema));

            await ProvideAsync(handle, "approval", """{"approved": true, "note": "ship-it"}""");

            Assert.Equal("""answered:{"approved":true,"note":"ship-it"}""", Minify(await handle.GetResultAsync<string>()));
            await AssertReplaysAsync(await handle.FetchHistoryAsync());
        });
    }

    [Fact]
    public async Task ProvideInput_WrongSchemaUnknownOrAnsweredRequest_RejectedAndWorkflowUnchanged()
    {
        var activities = new RecordingActivities();
        await RunAsync(activities, new InteractionTestInput(["approval", "second"], null), async handle =>
        {
            await InputRequestedAsync(activities, "approval");
            int decisions = await SettledDecisionsAsync(handle);

            await AssertRejectedAsync(handle, "approval", """{"approved": "yes"}""", HumanInput.SchemaMismatchError, "/approved");
            await AssertRejectedAsync(handle, "approval", """{"note": "no verdict"}""", HumanInput.SchemaMismatchError, "approved");
            await AssertRejectedAsync(handle, "approval", """{"approved": true, "extra": 1}""", HumanInput.SchemaMismatchError, "extra");
            await AssertRejectedAsync(handle, "approval", "42", HumanInput.SchemaMismatchError, "object");
            await AssertRejectedAsync(handle, "no-such-request", """{"approved": true}""", HumanInput.UnknownRequestError, "no-such-request");
            await AssertRejectedAsync(handle, "", """{"approved": true}""", HumanInput.UnknownRequestError, "requestId");
            Assert.Equal(decisions, await DecisionsAsync(handle));
            Assert.Equal(WorkflowExecutionStatus.Running, (await handle.DescribeAsync()).Status);

            await ProvideAsync(handle, "approval", """{"approved": true}""");
            await InputRequestedAsync(activities, "second");
            decisions = await SettledDecisionsAsync(handle);
            await AssertRejectedAsync(handle, "approval", """{"approved": false}""", HumanInput.ClosedRequestError, "already answered");
            Assert.Equal(decisions, await DecisionsAsync(handle));

            await ProvideAsync(handle, "second", """{"approved": false}""");
            Assert.Equal("answered:{\"approved\":true}\nanswered:{\"approved\":false}", Minify(await handle.GetResultAsync<string>()));
            WorkflowHistory history = await handle.FetchHistoryAsync();
            Assert.Equal(2, history.Events.Count(e => e.EventType == EventType.WorkflowExecutionUpdateAccepted));
            await AssertReplaysAsync(history);
        });
    }

    [Fact]
    public async Task ProvideInput_FinishedRun_RejectedByTemporalAndHistoryUnchanged()
    {
        var activities = new RecordingActivities();
        await RunAsync(activities, new InteractionTestInput(["approval"], null), async handle =>
        {
            await InputRequestedAsync(activities, "approval");
            await ProvideAsync(handle, "approval", """{"approved": true}""");
            await handle.GetResultAsync<string>();
            int length = (await handle.FetchHistoryAsync()).Events.Count;
            // Nothing runs any more: here the whole history must stay as it is.

            var rejected = await Assert.ThrowsAsync<RpcException>(() => ProvideAsync(handle, "approval", """{"approved": false}"""));

            Assert.Equal(RpcException.StatusCode.NotFound, rejected.Code);
            Assert.Equal(length, (await handle.FetchHistoryAsync()).Events.Count);
        });
    }

    [Fact]
    public async Task RequestAsync_NobodyAnswersInTime_TakesDefaultAndClosesRequest()
    {
        var activities = new RecordingActivities();
        await RunAsync(activities, new InteractionTestInput(["approval", "second"], FirstTimeoutSeconds: 1), async handle =>
        {
            RunLifecycleEvent requested = await InputRequestedAsync(activities, "approval");
            Assert.Equal(1, requested.Data!.Value.GetProperty("timeoutSeconds").GetInt32());
            // The second request is asked only after the first one's timer fired.
            await InputRequestedAsync(activities, "second");
            await AssertRejectedAsync(handle, "approval", """{"approved": true}""", HumanInput.ClosedRequestError, "timed out");

            await ProvideAsync(handle, "second", """{"approved": true}""");

            Assert.Equal("timeout:{\"approved\":false}\nanswered:{\"approved\":true}", Minify(await handle.GetResultAsync<string>()));
            WorkflowHistory history = await handle.FetchHistoryAsync();
            Assert.Contains(history.Events, e => e.EventType == EventType.TimerFired);
            await AssertReplaysAsync(history);
        });
    }

    private static async Task<RunLifecycleEvent> InputRequestedAsync(RecordingActivities activities, string requestId)
    {
        RunLifecycleEvent? found = null;
        await Eventually.TrueAsync(() =>
        {
            found = activities.RunEvents.FirstOrDefault(e => e.Type == RunEventTypes.InputRequested && e.Step == requestId);
            return found is not null;
        }, because: $"input.requested for {requestId} is published");
        return found!;
    }

    // What the workflow did once it waits for input (every activity done, its last workflow task completed: after it
    // only what that task recorded, such as a local activity's marker or the update it accepted).
    private static async Task<int> SettledDecisionsAsync(WorkflowHandle handle)
    {
        int decisions = 0;
        await Eventually.TrueAsync(async () =>
        {
            var events = (await handle.FetchHistoryAsync()).Events.ToList();
            decisions = Decisions(events);
            int lastTask = events.FindLastIndex(e => e.EventType is EventType.WorkflowTaskScheduled or EventType.WorkflowTaskStarted or EventType.WorkflowTaskCompleted);
            return events.Count(e => e.EventType == EventType.ActivityTaskScheduled) == events.Count(e => e.EventType == EventType.ActivityTaskCompleted)
                && lastTask >= 0 && events[lastTask].EventType == EventType.WorkflowTaskCompleted
                && events.Skip(lastTask + 1).All(e => e.EventType is EventType.MarkerRecorded or EventType.UpsertWorkflowSearchAttributes
                    or EventType.WorkflowExecutionUpdateAccepted or EventType.WorkflowExecutionUpdateCompleted);
        }, because: "the workflow settles waiting for input");
        return decisions;
    }

    // History events other than workflow-task bookkeeping: what the workflow decided and what happened to it. A rejected
    // update adds none (the DevServer records the workflow task that ran the validator, which a real Temporal drops).
    private static int Decisions(IEnumerable<Temporalio.Api.History.V1.HistoryEvent> events) => events.Count(e =>
        e.EventType is not (EventType.WorkflowTaskScheduled or EventType.WorkflowTaskStarted or EventType.WorkflowTaskCompleted));

    private static async Task<int> DecisionsAsync(WorkflowHandle handle) => Decisions((await handle.FetchHistoryAsync()).Events);

    private static Task ProvideAsync(WorkflowHandle handle, string requestId, string answerJson) =>
        handle.ExecuteUpdateAsync(HumanInputUpdates.ProvideInput,
            [new ProvideInputRequest { RequestId = requestId, Answer = JsonDocument.Parse(answerJson).RootElement.Clone() }]);

    private static async Task AssertRejectedAsync(WorkflowHandle handle, string requestId, string answerJson, string errorType, string mentions)
    {
        var failed = await Assert.ThrowsAsync<WorkflowUpdateFailedException>(() => ProvideAsync(handle, requestId, answerJson));
        var failure = Assert.IsType<ApplicationFailureException>(failed.InnerException);
        Assert.Equal(errorType, failure.ErrorType);
        Assert.Contains(mentions, failure.Message, StringComparison.Ordinal);
    }

    private static string Minify(string text) => text.Replace(" ", string.Empty, StringComparison.Ordinal);

    private async Task RunAsync(RecordingActivities activities, InteractionTestInput input, Func<WorkflowHandle, Task> act)
    {
        TemporalClient client = await server.ConnectClientAsync();
        string taskQueue = $"interaction-tests-{Guid.NewGuid():n}";
        using var worker = new TemporalWorker(client, new TemporalWorkerOptions(taskQueue)
            .AddAllActivities(activities).AddWorkflow<InteractionTestWorkflow>());
        await worker.ExecuteAsync(async () =>
        {
            string runId = Guid.NewGuid().ToString("n");
            WorkflowHandle<InteractionTestWorkflow, string> handle = await client.StartWorkflowAsync(
                (InteractionTestWorkflow wf) => wf.RunAsync(input), new WorkflowOptions(RunWorkflowIds.For("acme", runId), taskQueue));
            await act(handle);
        });
    }

    private static async Task AssertReplaysAsync(WorkflowHistory history)
    {
        var replayer = new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<InteractionTestWorkflow>());
        WorkflowReplayResult replay = await replayer.ReplayWorkflowAsync(history, throwOnReplayFailure: false);
        Assert.Null(replay.ReplayFailure);
    }
}
