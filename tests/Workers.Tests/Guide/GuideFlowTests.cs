using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workflows;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;

namespace AgentOrchestrator.Workers.Tests.Guide;

/// <summary>Runs the code of docs/authoring-flows.md, so the guide cannot rot.</summary>
public sealed class GuideFlowTests(GuideWorkerFixture fixture) : IClassFixture<GuideWorkerFixture>
{
    private const string Prompt = "What will the weather be in Oslo tomorrow? [[call:Weather-forecast {\"city\":\"Oslo\"}]]";

    [Fact]
    public async Task WeatherBrief_ModelCallsTheTool_AnswersFromTheForecastAndStreamsEveryStep()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(WeatherBriefWorkflow.Name, "acme", Prompt);
        string result = await handle.GetResultAsync<string>();
        string runId = handle.Id[(handle.Id.LastIndexOf('/') + 1)..];
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunCompleted), because: "run.completed published");

        IReadOnlyList<RunEvent> events = fixture.Events.EventsOf(runId);
        RunEvent toolResult = events.Single(e => e.Type == RunEventTypes.ToolResult);
        Assert.Equal("forecaster.tool1.1", toolResult.Step);
        Assert.StartsWith("Oslo: ", toolResult.Text, StringComparison.Ordinal);
        Assert.StartsWith($"Based on {toolResult.Text}", result, StringComparison.Ordinal);
        Assert.Equal(result, RunStreams.AssertStepStream(events, "forecaster.turn2", attempt: 1));
    }

    [Theory]
    [InlineData(true, null)]
    [InlineData(false, "Not published: the reviewer declined.")]
    public async Task WeatherAlert_ReviewerAnswers_PublishesForecastOnlyWhenApproved(bool publish, string? declined)
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(WeatherAlertWorkflow.Name, "acme", Prompt);
        string runId = handle.Id[(handle.Id.LastIndexOf('/') + 1)..];
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.InputRequested), because: "the review is requested");
        RunEvent requested = fixture.Events.EventsOf(runId).Single(e => e.Type == RunEventTypes.InputRequested);
        InputRequestedData data = requested.Data!.Value.Deserialize<InputRequestedData>(JsonSerializerOptions.Web)!;
        string forecast = RunStreams.AssertStepStream(fixture.Events.EventsOf(runId), "forecaster.turn2", attempt: 1);
        Assert.Equal(("review", 1800), (data.RequestId, data.TimeoutSeconds));
        Assert.Equal($"Publish this weather alert?\n\n{forecast}", data.Prompt);

        var wrong = await Assert.ThrowsAsync<WorkflowUpdateFailedException>(() => AnswerAsync(handle, "{\"publish\":\"yes\"}"));
        Assert.Equal(HumanInput.SchemaMismatchError, Assert.IsType<ApplicationFailureException>(wrong.InnerException).ErrorType);
        await AnswerAsync(handle, publish ? "{\"publish\":true}" : "{\"publish\":false}");

        Assert.Equal(declined ?? forecast, await handle.GetResultAsync<string>());
    }

    [Fact]
    public async Task WeatherBriefV2_ReplayingHistoryOfVersion1_SucceedsWithPatchAndFailsWithoutIt()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(WeatherBriefWorkflow.Name, "acme", Prompt);
        await handle.GetResultAsync<string>();
        WorkflowHistory history = await handle.FetchHistoryAsync();

        WorkflowReplayResult patched = await new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<WeatherBriefWorkflowV2>())
            .ReplayWorkflowAsync(history, throwOnReplayFailure: false);
        Assert.Null(patched.ReplayFailure);

        WorkflowReplayResult unpatched = await new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<WeatherBriefWorkflowUnpatched>())
            .ReplayWorkflowAsync(history, throwOnReplayFailure: false);
        Assert.NotNull(unpatched.ReplayFailure);
    }

    private static Task AnswerAsync(WorkflowHandle handle, string answerJson) =>
        handle.ExecuteUpdateAsync(HumanInputUpdates.ProvideInput,
            [new ProvideInputRequest { RequestId = "review", Answer = JsonDocument.Parse(answerJson).RootElement.Clone() }]);
}
