using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workflows.Authoring;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workers.Tests.Guide;

// docs/authoring-flows.md, step 2: the flow. Shown in the guide verbatim; GuideFlowTests runs it.
// <guide-flow>
/// <summary>The guide's flow: a forecaster agent looks up the weather with a tool and answers.</summary>
[Workflow(Name)]
public sealed class WeatherBriefWorkflow
{
    public const string Name = "weather-brief";

    public static Agent Forecaster { get; } = new()
    {
        Name = "forecaster",
        Instructions = "You are a forecaster. Look up the forecast for the city the user asks about and summarize it.",
        Tools = [WeatherPlugin.ForecastTool],
        MaxIterations = 3,
    };

    [WorkflowRun]
    public Task<string> RunAsync(RunInput input) => AgentFlow.RunAsync(input, async flow =>
    {
        AgentResult forecast = await flow.RunAgentAsync(Forecaster, flow.Run.Input);
        return forecast.Text;
    });
}
// </guide-flow>
