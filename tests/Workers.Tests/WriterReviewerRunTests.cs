using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workflows;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Converters;
using Temporalio.Worker;

namespace AgentOrchestrator.Workers.Tests;

public sealed class WriterReviewerRunTests(InstantModelWorkerFixture fixture) : IClassFixture<InstantModelWorkerFixture>
{
    private const string Tenant = "acme";

    [Fact]
    public async Task RunAsync_InstantModel_StreamsBothStepsInCausalOrderAndReturnsReviewerText()
    {
        WorkflowHandle<WriterReviewerWorkflow, string> handle = await fixture.StartRunAsync(Tenant, "Explain durable execution in two sentences.");
        string result = await handle.GetResultAsync();
        string runId = RunIdOf(handle);
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunCompleted), because: "run.completed published");

        IReadOnlyList<RunEvent> events = fixture.Events.EventsOf(runId);
        Assert.All(events, e => Assert.Equal(Tenant, e.TenantId));
        string writerText = RunStreams.AssertStepStream(events, WriterReviewerWorkflow.WriterStep, attempt: 1);
        string reviewerText = RunStreams.AssertStepStream(events, WriterReviewerWorkflow.ReviewerStep, attempt: 1);
        Assert.Equal(result, reviewerText);
        Assert.NotEqual(writerText, reviewerText);

        int[] causal =
        [
            RunStreams.PositionOf(events, RunEventTypes.RunStarted),
            RunStreams.PositionOf(events, RunEventTypes.StepStarted, WriterReviewerWorkflow.WriterStep),
            RunStreams.PositionOf(events, RunEventTypes.StepCompleted, WriterReviewerWorkflow.WriterStep),
            RunStreams.PositionOf(events, RunEventTypes.StepStarted, WriterReviewerWorkflow.ReviewerStep),
            RunStreams.PositionOf(events, RunEventTypes.StepCompleted, WriterReviewerWorkflow.ReviewerStep),
            RunStreams.PositionOf(events, RunEventTypes.RunCompleted),
        ];
        Assert.Equal(causal.Order(), causal);
        RunEvent completed = events[causal[^1]];
        Assert.Equal(result, completed.Text);
        Assert.Equal(RunEventIds.ForRun(runId, RunEventTypes.RunCompleted), completed.Id);
        Assert.DoesNotContain(events, e => e.Type is RunEventTypes.RunFailed or RunEventTypes.RunCanceled);
    }

    [Fact]
    public async Task RunAsync_InstantModel_BatchesTokensIntoFewerMessagesThanModelTokens()
    {
        WorkflowHandle<WriterReviewerWorkflow, string> handle = await fixture.StartRunAsync(Tenant, "Batch me.");
        string result = await handle.GetResultAsync();
        string runId = RunIdOf(handle);
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunCompleted), because: "run.completed published");

        List<RunEventsPublished> reviewerTokenMessages = fixture.Events.MessagesOf(runId)
            .Where(m => m.Events.Any(e => e.Type == RunEventTypes.Token && e.Step == WriterReviewerWorkflow.ReviewerStep))
            .ToList();
        // The simulator's tokens are words: every token after the first starts with a space.
        int modelTokens = result.Split(' ').Length;
        // Natural batching: tokens that arrive while a publish is in flight share the next message.
        Assert.InRange(reviewerTokenMessages.Count, 1, modelTokens - 1);
        Assert.Equal(result, string.Concat(reviewerTokenMessages.SelectMany(m => m.Events).OrderBy(e => e.Index).Select(e => e.Text)));
        // The simulator stamps each chunk with its emit time; deltas carry the first chunk's stamp.
        Assert.All(reviewerTokenMessages.SelectMany(m => m.Events), e => Assert.NotNull(e.ModelEmittedAtUs));
    }

    [Fact]
    public async Task RunAsync_CompletedRun_HistoryReplaysWithoutNondeterminism()
    {
        WorkflowHandle<WriterReviewerWorkflow, string> handle = await fixture.StartRunAsync(Tenant, "Replay me.");
        await handle.GetResultAsync();

        WorkflowHistory history = await handle.FetchHistoryAsync();
        var replayer = new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<WriterReviewerWorkflow>());
        WorkflowReplayResult replay = await replayer.ReplayWorkflowAsync(history, throwOnReplayFailure: false);
        Assert.Null(replay.ReplayFailure);

        // Refresh the checked-in history that guards the workflow against non-deterministic changes:
        // RECORD_WORKFLOW_HISTORY=/path/to/tests/Workflows.Tests/Histories/writer-reviewer.json dotnet test ...
        if (Environment.GetEnvironmentVariable("RECORD_WORKFLOW_HISTORY") is { Length: > 0 } path)
        {
            await File.WriteAllTextAsync(path, history.ToJson());
        }
    }

    [Fact]
    public async Task RunAsync_CompletedRun_PublishesRunEventsAsLocalActivitiesWithoutTasksOfTheirOwn()
    {
        WorkflowHandle<WriterReviewerWorkflow, string> handle = await fixture.StartRunAsync(Tenant, "Count my tasks.");
        string result = await handle.GetResultAsync();
        string runId = RunIdOf(handle);
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunCompleted), because: "run.completed published");

        IReadOnlyList<HistoryEvent> history = (await handle.FetchHistoryAsync()).Events.ToList();
        // Only the two model steps are activity tasks; run.started and run.completed are local-activity markers whose
        // results are the published events (what the gateway's durable transcript reads).
        Assert.Equal([AgentActivityNames.RunAgentStep, AgentActivityNames.RunAgentStep],
            history.Where(e => e.EventType == EventType.ActivityTaskScheduled).Select(e => e.ActivityTaskScheduledEventAttributes.ActivityType.Name));
        List<RunLifecycleEvent> published = history
            .Where(e => e.EventType == EventType.MarkerRecorded && e.MarkerRecordedEventAttributes.MarkerName == "core_local_activity")
            .Select(e => DataConverter.Default.PayloadConverter.ToValue<RunLifecycleEvent>(e.MarkerRecordedEventAttributes.Details["result"].Payloads_[0]))
            .ToList();
        Assert.Equal([RunEventTypes.RunStarted, RunEventTypes.RunCompleted], published.Select(e => e.Type));
        Assert.Equal(result, published[1].Text);
        // One workflow task per step result plus the first: 3, where an activity per run event took 5.
        Assert.Equal(3, history.Count(e => e.EventType == EventType.WorkflowTaskCompleted));
    }

    private static string RunIdOf(WorkflowHandle handle) => handle.Id[(handle.Id.LastIndexOf('/') + 1)..];
}
