using System.Text.Json;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>
/// A v1 workflow is parked at a wait point, its worker is replaced by one running v2 code that guards
/// changed steps with Workflow.Patched, and the run finishes on v2 and replays cleanly against v2.
/// </summary>
public sealed class PatchingTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    private const string WorkflowName = "PatchedReport";

    private static readonly ActivityOptions Options = new() { StartToCloseTimeout = TimeSpan.FromSeconds(30) };

    public static class ReportActivities
    {
        [Activity]
        public static string Gather(string topic) => $"gathered({topic})";

        [Activity]
        public static string GatherFromCache(string topic) => $"cached({topic})";

        [Activity]
        public static string PublishPlain(string body) => $"plain[{body}]";

        [Activity]
        public static string PublishRich(string body) => $"rich[{body}]";
    }

    [Workflow(WorkflowName)]
    public sealed class ReportV1
    {
        private bool _approved;

        [WorkflowRun]
        public async Task<string> RunAsync(string topic)
        {
            var body = await Workflow.ExecuteActivityAsync(() => ReportActivities.Gather(topic), Options);
            Stage = "awaiting approval";
            await Workflow.WaitConditionAsync(() => _approved);
            return await Workflow.ExecuteActivityAsync(() => ReportActivities.PublishPlain(body), Options);
        }

        [WorkflowSignal]
        public Task ApproveAsync()
        {
            _approved = true;
            return Task.CompletedTask;
        }

        [WorkflowQuery]
        public string Stage { get; private set; } = "gathering";
    }

    [Workflow(WorkflowName)]
    public sealed class ReportV2
    {
        private bool _approved;

        [WorkflowRun]
        public async Task<string> RunAsync(string topic)
        {
            var body = Workflow.Patched("gather-from-cache")
                ? await Workflow.ExecuteActivityAsync(() => ReportActivities.GatherFromCache(topic), Options)
                : await Workflow.ExecuteActivityAsync(() => ReportActivities.Gather(topic), Options);
            Stage = "awaiting approval";
            await Workflow.WaitConditionAsync(() => _approved);
            return Workflow.Patched("rich-publish")
                ? await Workflow.ExecuteActivityAsync(() => ReportActivities.PublishRich(body), Options)
                : await Workflow.ExecuteActivityAsync(() => ReportActivities.PublishPlain(body), Options);
        }

        [WorkflowSignal]
        public Task ApproveAsync()
        {
            _approved = true;
            return Task.CompletedTask;
        }

        [WorkflowQuery]
        public string Stage { get; private set; } = "gathering";
    }

    private static TemporalWorkerOptions WorkerOptions(string taskQueue, Type workflow) => new TemporalWorkerOptions(taskQueue)
        .AddWorkflow(workflow)
        .AddActivity(ReportActivities.Gather)
        .AddActivity(ReportActivities.GatherFromCache)
        .AddActivity(ReportActivities.PublishPlain)
        .AddActivity(ReportActivities.PublishRich);

    private static IEnumerable<string> PatchIds(WorkflowHistory history) =>
        history.Events.Where(e => e.EventType == EventType.MarkerRecorded && e.MarkerRecordedEventAttributes.MarkerName == "core_patch")
            .Select(e => JsonDocument.Parse(e.MarkerRecordedEventAttributes.Details["patch-data"].Payloads_[0].Data.ToStringUtf8())
                .RootElement.GetProperty("id").GetString()!);

    [Fact]
    public async Task Patched_V1RunFinishedOnV2Worker_TakesNewBranchOnlyAfterWaitAndReplays()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        WorkflowHandle<ReportV1, string> oldRun;

        await using (WorkerScope.Start(client, WorkerOptions(taskQueue, typeof(ReportV1))))
        {
            oldRun = await client.StartWorkflowAsync((ReportV1 wf) => wf.RunAsync("sales"), new WorkflowOptions($"wf-v1-{Guid.NewGuid()}", taskQueue));
            await Eventually.TrueAsync(async () => await oldRun.QueryAsync(wf => wf.Stage) == "awaiting approval",
                because: "v1 should reach its wait point");
        }

        await using var v2 = WorkerScope.Start(client, WorkerOptions(taskQueue, typeof(ReportV2)));
        var newRun = await client.StartWorkflowAsync((ReportV2 wf) => wf.RunAsync("ops"), new WorkflowOptions($"wf-v2-{Guid.NewGuid()}", taskQueue));
        await Eventually.TrueAsync(async () => await newRun.QueryAsync(wf => wf.Stage) == "awaiting approval",
            because: "v2 should reach its wait point");

        // The v1 run keeps its old first step (no marker in its history) but takes the new last step.
        await client.GetWorkflowHandle<ReportV2>(oldRun.Id).SignalAsync(wf => wf.ApproveAsync());
        await newRun.SignalAsync(wf => wf.ApproveAsync());
        Assert.Equal("rich[gathered(sales)]", await oldRun.GetResultAsync());
        Assert.Equal("rich[cached(ops)]", await newRun.GetResultAsync());

        var oldHistory = await oldRun.FetchHistoryAsync();
        Assert.Equal(["rich-publish"], PatchIds(oldHistory));
        Assert.Equal(
            ["Gather", "PublishRich"],
            oldHistory.Events.Where(e => e.EventType == EventType.ActivityTaskScheduled).Select(e => e.ActivityTaskScheduledEventAttributes.ActivityType.Name));
        var newHistory = await newRun.FetchHistoryAsync();
        Assert.Equal(["gather-from-cache", "rich-publish"], PatchIds(newHistory));

        await Replay.AssertDeterministicAsync(oldHistory, typeof(ReportV2));
        await Replay.AssertDeterministicAsync(newHistory, typeof(ReportV2));

        // v1 code cannot replay the finished run: it would schedule PublishPlain where history has PublishRich.
        var replayOnV1 = await new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<ReportV1>())
            .ReplayWorkflowAsync(oldHistory, throwOnReplayFailure: false);
        Assert.NotNull(replayOnV1.ReplayFailure);
    }
}
