using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workflows.Authoring;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workers.Tests.Guide;

// docs/authoring-flows.md, step 5: changing a flow that has runs in flight. Same workflow type as
// WeatherBriefWorkflow; GuideFlowTests replays a history recorded with that version against this one.
// <guide-patch>
/// <summary>Version 2 of the guide's flow: an editor polishes the forecast, only in runs that started with this code.</summary>
[Workflow(WeatherBriefWorkflow.Name)]
public sealed class WeatherBriefWorkflowV2
{
    public const string EditorPatch = "weather-brief.editor";

    public static Agent Editor { get; } = new()
    {
        Name = "editor",
        Instructions = "You are an editor. Make the forecast friendly and short.",
    };

    [WorkflowRun]
    public Task<string> RunAsync(RunInput input) => AgentFlow.RunAsync(input, async flow =>
    {
        AgentResult forecast = await flow.RunAgentAsync(WeatherBriefWorkflow.Forecaster, flow.Run.Input);
        // Runs recorded before this change have no marker for the patch: they replay down the old path.
        if (Workflow.Patched(EditorPatch))
        {
            return (await flow.RunAgentAsync(Editor, forecast.Text)).Text;
        }
        return forecast.Text;
    });
}
// </guide-patch>

/// <summary>The same change made unsafely (no patch): replaying an old history against it must fail.</summary>
[Workflow(WeatherBriefWorkflow.Name)]
public sealed class WeatherBriefWorkflowUnpatched
{
    [WorkflowRun]
    public Task<string> RunAsync(RunInput input) => AgentFlow.RunAsync(input, async flow =>
    {
        AgentResult forecast = await flow.RunAgentAsync(WeatherBriefWorkflow.Forecaster, flow.Run.Input);
        return (await flow.RunAgentAsync(WeatherBriefWorkflowV2.Editor, forecast.Text)).Text;
    });
}
