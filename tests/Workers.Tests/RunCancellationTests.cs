using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workflows;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Worker;

namespace AgentOrchestrator.Workers.Tests;

public sealed class RunCancellationTests(SlowModelWorkerFixture fixture) : IClassFixture<SlowModelWorkerFixture>
{
    [Fact]
    public async Task CancelAsync_WhileWriterStreams_StopsModelStreamAndPublishesRunCanceled()
    {
        long canceledBefore = (await fixture.SimulatorStatsAsync()).CanceledStreams;
        WorkflowHandle<WriterReviewerWorkflow, string> handle = await fixture.StartRunAsync("acme", "Cancel me while I write.");
        string runId = handle.Id[(handle.Id.LastIndexOf('/') + 1)..];
        await Eventually.TrueAsync(() => fixture.Events.EventsOf(runId).Any(e => e.Type == RunEventTypes.Token),
            because: "the writer streams its first tokens");

        await handle.CancelAsync();

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        Assert.IsType<CanceledFailureException>(failure.InnerException);
        await Eventually.TrueAsync(async () => (await fixture.SimulatorStatsAsync()).CanceledStreams > canceledBefore,
            because: "the simulator saw the model stream stop");
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunCanceled), because: "run.canceled published");

        IReadOnlyList<RunEvent> events = fixture.Events.EventsOf(runId);
        Assert.DoesNotContain(events, e => e.Type is RunEventTypes.StepCompleted or RunEventTypes.RunCompleted or RunEventTypes.RunFailed);
        Assert.DoesNotContain(events, e => e.Step == WriterReviewerWorkflow.ReviewerStep);
        Assert.Equal(RunEventIds.ForRun(runId, RunEventTypes.RunCanceled), events.Single(e => e.Type == RunEventTypes.RunCanceled).Id);

        var replayer = new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<WriterReviewerWorkflow>());
        WorkflowReplayResult replay = await replayer.ReplayWorkflowAsync(await handle.FetchHistoryAsync(), throwOnReplayFailure: false);
        Assert.Null(replay.ReplayFailure);
    }
}
