using AgentOrchestrator.Workers.Tools;
using Microsoft.Extensions.DependencyInjection;
using Temporalio.Extensions.Hosting;

namespace AgentOrchestrator.Workers.Tests.Guide;

/// <summary>A worker wired exactly as docs/authoring-flows.md step 3 says.</summary>
public sealed class GuideWorkerFixture : AgentWorkerFixture
{
    // <guide-wiring>
    protected override void ConfigureWorkerServices(IServiceCollection services) =>
        services.AddAgentPlugin<WeatherPlugin>(WeatherPlugin.PluginName);

    protected override void ConfigureWorker(ITemporalWorkerServiceOptionsBuilder worker) =>
        worker.AddWorkflow<WeatherBriefWorkflow>().AddWorkflow<WeatherAlertWorkflow>();
    // </guide-wiring>
}
