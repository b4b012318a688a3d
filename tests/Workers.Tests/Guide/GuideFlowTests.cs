using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Temporalio.Client;
using Temporalio.Common;
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
}
