using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workflows;
using AgentOrchestrator.Workflows.Authoring;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workers.Tests.Guide;

// docs/authoring-flows.md, "A human step". Shown in the guide verbatim; GuideFlowTests runs it.
// <guide-human>
/// <summary>The guide's human step: a person approves the forecast before it goes out as an alert.</summary>
[Workflow(Name)]
public sealed class WeatherAlertWorkflow
{
    public const string Name = "weather-alert";

    /// <summary>What the reviewer answers: {"publish": true} or {"publish": false}.</summary>
    public static JsonElement ReviewSchema { get; } = JsonSerializer.Deserialize<JsonElement>("""
        {
          "type": "object",
          "properties": { "publish": { "type": "boolean" } },
          "required": ["publish"],
          "additionalProperties": false
        }
        """);

    // The declared default path: nobody answered within the timeout, so nothing is published.
    private static readonly JsonElement NotReviewed = JsonSerializer.Deserialize<JsonElement>("""{ "publish": false }""");

    [WorkflowRun]
    public Task<string> RunAsync(RunInput input) => AgentFlow.RunAsync(input, async flow =>
    {
        AgentResult forecast = await flow.RunAgentAsync(WeatherBriefWorkflow.Forecaster, flow.Run.Input);
        HumanInputAnswer review = await HumanInput.RequestAsync(
            flow.NextStep("review"),
            $"Publish this weather alert?\n\n{forecast.Text}",
            ReviewSchema,
            timeout: TimeSpan.FromMinutes(30),
            defaultAnswer: NotReviewed);
        if (review.Answer.GetProperty("publish").GetBoolean())
        {
            return forecast.Text;
        }
        return review.TimedOut ? "Not published: nobody reviewed it in time." : "Not published: the reviewer declined.";
    });
}
// </guide-human>
