using AgentOrchestrator.Workers;
using AgentOrchestrator.Workers.Tools;
using Temporalio.Extensions.Hosting;

namespace HelloFlows;

/// <summary>The sample's wiring, shared by Program.cs and the tests.</summary>
public static class HelloFlowsServiceCollectionExtensions
{
    /// <summary>The agent worker (Temporal and the model from configuration), the greeting tool and the hello flow.</summary>
    public static ITemporalWorkerServiceOptionsBuilder AddHelloFlows(this IServiceCollection services, IConfiguration configuration) =>
        services
            .AddAgentPlugin<GreetingPlugin>(GreetingPlugin.PluginName)
            .AddAgentWorker(configuration)
            .AddWorkflow<HelloWorkflow>();
}
