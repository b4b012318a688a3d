using AgentOrchestrator.Contracts;
using AgentOrchestrator.Messaging;
using AgentOrchestrator.Workers.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Temporalio.Extensions.Hosting;

namespace HelloFlows.Tests;

/// <summary>The sample's worker, composed from the packages alone, hosts its flow, its tool and the agent activities.</summary>
public sealed class HelloFlowsServiceCollectionExtensionsTests
{
    [Fact]
    public void AddHelloFlows_Worker_RegistersTheFlowBesideTheAgentActivities()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Services.AddMessageBus(builder.Configuration);
        string optionsName = builder.Services.AddHelloFlows(builder.Configuration).ConfigureOptions().Name;
        using IHost host = builder.Build();

        TemporalWorkerServiceOptions worker = host.Services.GetRequiredService<IOptionsMonitor<TemporalWorkerServiceOptions>>().Get(optionsName);

        Assert.Equal(TaskQueues.Agents, worker.TaskQueue);
        Assert.Contains(worker.Workflows, workflow => workflow.Name == HelloWorkflow.Name);
        Assert.Contains(worker.Activities, activity => activity.Name == AgentActivityNames.ModelTurn);
        Assert.Contains(worker.Activities, activity => activity.Name == AgentActivityNames.ToolCall);
    }

    [Fact]
    public void AddHelloFlows_Toolbox_FindsTheGreeterTool()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Services.AddMessageBus(builder.Configuration);
        builder.Services.AddHelloFlows(builder.Configuration);
        using IHost host = builder.Build();

        AgentToolbox toolbox = host.Services.GetRequiredService<AgentToolbox>();

        foreach (string tool in HelloWorkflow.Greeter.Tools)
        {
            Assert.NotNull(toolbox.Find(tool));
        }
        Assert.Equal("Bonjour", GreetingPlugin.Salutation("French"));
    }
}
