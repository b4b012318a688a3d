using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workflows;
using Temporalio.Client;
using Temporalio.Worker;

namespace AgentOrchestrator.Workers.Tests;

public sealed class StepRetryTests(CutFirstStreamWorkerFixture fixture) : IClassFixture<CutFirstStreamWorkerFixture>
{
    [Fact]
    public async Task RunAsync_FirstModelStreamCut_RetriesWriterAsAttempt2AndCompletes()
    {
        WorkflowHandle<WriterReviewerWorkflow, string> handle = await fixture.StartRunAsync("acme", "Survive a cut stream.");
        string result = await handle.GetResultAsync();
        string runId = handle.Id[(handle.Id.LastIndexOf('/') + 1)..];
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunCompleted), because: "run.completed published");

        Assert.Equal(1, (await fixture.SimulatorStatsAsync()).CutStreams);
        IReadOnlyList<RunEvent> events = fixture.Events.EventsOf(runId);
        // Attempt 1 started and streamed at most the 3 tokens before the cut, and never completed.
        List<RunEvent> firstAttempt = events.Where(e => e.Step == WriterReviewerWorkflow.WriterStep && e.Attempt == 1).ToList();
        Assert.Equal(RunEventTypes.StepStarted, firstAttempt[0].Type);
        Assert.DoesNotContain(firstAttempt, e => e.Type == RunEventTypes.StepCompleted);
        Assert.True(string.Concat(firstAttempt.Where(e => e.Type == RunEventTypes.Token).Select(e => e.Text)).Split(' ',
            StringSplitOptions.RemoveEmptyEntries).Length <= 3);

        string writerText = RunStreams.AssertStepStream(events, WriterReviewerWorkflow.WriterStep, attempt: 2);
        Assert.True(RunStreams.PositionOf(events, RunEventTypes.StepStarted, WriterReviewerWorkflow.WriterStep, attempt: 2)
            > RunStreams.PositionOf(events, RunEventTypes.StepStarted, WriterReviewerWorkflow.WriterStep, attempt: 1));
        Assert.False(string.IsNullOrEmpty(writerText));
        Assert.Equal(result, RunStreams.AssertStepStream(events, WriterReviewerWorkflow.ReviewerStep, attempt: 1));

        var replayer = new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<WriterReviewerWorkflow>());
        WorkflowReplayResult replay = await replayer.ReplayWorkflowAsync(await handle.FetchHistoryAsync(), throwOnReplayFailure: false);
        Assert.Null(replay.ReplayFailure);
    }
}
