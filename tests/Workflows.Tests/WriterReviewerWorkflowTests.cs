using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;

namespace AgentOrchestrator.Workflows.Tests;

/// <summary>The workflow alone, on a real DevServer, with in-test activities under the worker's activity names.</summary>
public sealed class WriterReviewerWorkflowTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Fact]
    public async Task RunAsync_TwoSteps_ReviewerSeesDraftAndResultIsReviewerText()
    {
        var activities = new RecordingActivities();
        (string result, WorkflowHistory history) = await RunAsync(activities, "Write a haiku.", async handle => await handle.GetResultAsync());

        AgentStepInput[] steps = activities.Steps.ToArray();
        Assert.Equal([WriterReviewerWorkflow.WriterStep, WriterReviewerWorkflow.ReviewerStep], steps.Select(s => s.Step));
        Assert.Equal("Write a haiku.", steps[0].Prompt);
        Assert.Equal(WriterReviewerWorkflow.WriterInstructions, steps[0].Instructions);
        Assert.Contains("Write a haiku.", steps[1].Prompt, StringComparison.Ordinal);
        Assert.Contains($"writer says: {steps[0].Prompt.Length} chars seen", steps[1].Prompt, StringComparison.Ordinal);
        Assert.Equal(WriterReviewerWorkflow.ReviewerInstructions, steps[1].Instructions);
        Assert.Equal($"reviewer says: {steps[1].Prompt.Length} chars seen", result);
        Assert.Equal([RunEventTypes.RunStarted, RunEventTypes.RunCompleted], activities.RunEvents.Select(e => e.Type));
        Assert.Equal(result, activities.RunEvents.Last().Text);
        await AssertReplaysAsync(history);
    }

    [Fact]
    public async Task RunAsync_StepFails_PublishesRunFailedWithMessageAndFails()
    {
        var activities = new RecordingActivities();
        (Exception? failure, WorkflowHistory history) = await RunAsync(activities, $"Please {RecordingActivities.FailMarker}",
            async handle => await Record.ExceptionAsync(() => handle.GetResultAsync()));

        var failed = Assert.IsType<WorkflowFailedException>(failure);
        Assert.IsType<ActivityFailureException>(failed.InnerException);
        Assert.Equal([RunEventTypes.RunStarted, RunEventTypes.RunFailed], activities.RunEvents.Select(e => e.Type));
        Assert.Equal("model refused", activities.RunEvents.Last().Text);
        await AssertReplaysAsync(history);
    }

    [Fact]
    public async Task RunAsync_CanceledDuringStep_PublishesRunCanceledAndEndsCanceled()
    {
        var activities = new RecordingActivities();
        (Exception? failure, WorkflowHistory history) = await RunAsync(activities, $"Slowly {RecordingActivities.HangMarker}",
            async handle =>
            {
                await Eventually.TrueAsync(() => !activities.Steps.IsEmpty, because: "the writer step started");
                await handle.CancelAsync();
                return await Record.ExceptionAsync(() => handle.GetResultAsync());
            });

        var failed = Assert.IsType<WorkflowFailedException>(failure);
        Assert.IsType<CanceledFailureException>(failed.InnerException);
        Assert.Equal([RunEventTypes.RunStarted, RunEventTypes.RunCanceled], activities.RunEvents.Select(e => e.Type));
        await activities.StepCanceled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await AssertReplaysAsync(history);
    }

    [Fact]
    public async Task ReplayWorkflowAsync_RecordedWriterReviewerHistory_ReplaysWithoutNondeterminism()
    {
        // Recorded from a real run (worker, simulator, DevServer): see tests/Workers.Tests WriterReviewerRunTests.
        string json = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Histories", "writer-reviewer.json"));
        WorkflowHistory history = WorkflowHistory.FromJson("tenant/acme/run/recorded", json);
        await AssertReplaysAsync(history);
    }

    private async Task<(T Outcome, WorkflowHistory History)> RunAsync<T>(
        RecordingActivities activities, string input, Func<WorkflowHandle<WriterReviewerWorkflow, string>, Task<T>> act)
    {
        TemporalClient client = await server.ConnectClientAsync();
        // Own task queue per test: tests of this class may run side by side on the shared server.
        string taskQueue = $"workflow-tests-{Guid.NewGuid():n}";
        using var worker = new TemporalWorker(client, new TemporalWorkerOptions(taskQueue)
        {
            MaxHeartbeatThrottleInterval = TimeSpan.FromMilliseconds(100),
        }.AddAllActivities(activities).AddWorkflow<WriterReviewerWorkflow>());
        return await worker.ExecuteAsync(async () =>
        {
            string runId = Guid.NewGuid().ToString("n");
            WorkflowHandle<WriterReviewerWorkflow, string> handle = await client.StartWorkflowAsync(
                (WriterReviewerWorkflow wf) => wf.RunAsync(new RunInput { RunId = runId, TenantId = "acme", Flow = Flows.WriterReviewer, Input = input }),
                new WorkflowOptions(RunWorkflowIds.For("acme", runId), taskQueue));
            T outcome = await act(handle);
            return (outcome, await handle.FetchHistoryAsync());
        });
    }

    private static async Task AssertReplaysAsync(WorkflowHistory history)
    {
        var replayer = new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<WriterReviewerWorkflow>());
        WorkflowReplayResult replay = await replayer.ReplayWorkflowAsync(history, throwOnReplayFailure: false);
        Assert.Null(replay.ReplayFailure);
    }
}
