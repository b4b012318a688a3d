using AgentOrchestrator.Workers.Tools;
using Microsoft.Extensions.DependencyInjection;
using Temporalio.Extensions.Hosting;

namespace AgentOrchestrator.Workers.Tests.Agents;

/// <summary>The agent worker plus the test flow and the flaky tool (with its ledger).</summary>
public sealed class AgentPatternsWorkerFixture : AgentWorkerFixture
{
    public ChargeLedger Ledger { get; } = new();

    public SlowToolProbe SlowTool { get; } = new();

    protected override void ConfigureWorkerServices(IServiceCollection services)
    {
        services.AddSingleton(Ledger);
        services.AddAgentPlugin<FlakyChargePlugin>(FlakyChargePlugin.PluginName);
        services.AddSingleton(SlowTool);
        services.AddAgentPlugin<SlowToolPlugin>(SlowToolPlugin.PluginName);
    }

    protected override void ConfigureWorker(ITemporalWorkerServiceOptionsBuilder worker) => worker.AddWorkflow<AgentPatternsWorkflow>();
}
