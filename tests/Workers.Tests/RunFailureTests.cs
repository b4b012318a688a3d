using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workflows;
using Temporalio.Client;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Workers.Tests;

public sealed class RunFailureTests(RejectingModelWorkerFixture fixture) : IClassFixture<RejectingModelWorkerFixture>
{
    [Fact]
    public async Task RunAsync_ModelRejectsRequest_FailsWithoutRetryAndPublishesRunFailed()
    {
        WorkflowHandle<WriterReviewerWorkflow, string> handle = await fixture.StartRunAsync("acme", "This request is rejected.");
        string runId = handle.Id[(handle.Id.LastIndexOf('/') + 1)..];

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        var activityFailure = Assert.IsType<ActivityFailureException>(failure.InnerException);
        var rejected = Assert.IsType<ApplicationFailureException>(activityFailure.InnerException);
        Assert.Equal("ModelRequestRejected", rejected.ErrorType);
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunFailed), because: "run.failed published");

        IReadOnlyList<RunEvent> events = fixture.Events.EventsOf(runId);
        RunEvent failed = events.Single(e => e.Type == RunEventTypes.RunFailed);
        Assert.Contains("400", failed.Text, StringComparison.Ordinal);
        Assert.True(RunStreams.PositionOf(events, RunEventTypes.RunStarted) < RunStreams.PositionOf(events, RunEventTypes.RunFailed));
        // A 400 is not retried: one attempt, no step.completed, no reviewer.
        Assert.All(events.Where(e => e.Step is not null), e => Assert.Equal(1, e.Attempt));
        Assert.DoesNotContain(events, e => e.Type is RunEventTypes.StepCompleted or RunEventTypes.RunCompleted);
        Assert.DoesNotContain(events, e => e.Step == WriterReviewerWorkflow.ReviewerStep);
    }
}
