using System.ComponentModel;
using AgentOrchestrator.Workers.Tools;
using Microsoft.SemanticKernel;

namespace AgentOrchestrator.Workers.Tests.Guide;

// docs/authoring-flows.md, step 1: the tool. Shown in the guide verbatim; GuideFlowTests runs it.
// <guide-tool>
/// <summary>The guide's tool: a Semantic Kernel plugin the worker registers with AddAgentPlugin.</summary>
public sealed class WeatherPlugin
{
    public const string PluginName = "Weather";

    /// <summary>How agents name the tool: "Plugin-function".</summary>
    public const string ForecastTool = "Weather-forecast";

    [KernelFunction("forecast")]
    [Description("Tomorrow's forecast for a city.")]
    public static string Forecast([Description("The city")] string city)
    {
        // A real tool would call a weather API here, passing the idempotency key if the call had side effects.
        string key = AgentToolContext.Current?.IdempotencyKey ?? "none";
        int temperature = 10 + (city.ToUpperInvariant().Sum(c => c) % 15);
        return $"{city}: {temperature} °C, light wind (request {key[..Math.Min(8, key.Length)]})";
    }
}
// </guide-tool>
