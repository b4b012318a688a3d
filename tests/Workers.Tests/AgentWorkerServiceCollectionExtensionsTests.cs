using AgentOrchestrator.Contracts;
using AgentOrchestrator.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.AzureOpenAI;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using Temporalio.Extensions.Hosting;

namespace AgentOrchestrator.Workers.Tests;

public sealed class AgentWorkerServiceCollectionExtensionsTests
{
    [Fact]
    public async Task AddAgentWorker_InvalidBatchingOptions_FailsAtStart()
    {
        using IHost host = Build(new() { ["Worker:TokenBatching:MaxChars"] = "0" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("MaxChars", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddAgentWorker_Defaults_BindSimulatorEndpointAndBatching()
    {
        using IHost host = Build([]);

        ModelOptions model = host.Services.GetRequiredService<IOptions<ModelOptions>>().Value;
        Assert.Equal(ModelProvider.OpenAICompatible, model.Provider);
        Assert.Equal(new Uri("http://127.0.0.1:5080/v1"), model.Endpoint);
        Assert.Equal("sim-1", model.DefaultModel);
        TokenBatchingOptions batching = host.Services.GetRequiredService<IOptions<TokenBatchingOptions>>().Value;
        Assert.Equal(64, batching.MaxChars);
        Assert.Equal(TimeSpan.FromMilliseconds(20), batching.FlushInterval);
        Assert.IsType<OpenAIChatCompletionService>(host.Services.GetRequiredService<IChatCompletionService>());
    }

    [Fact]
    public void ChatModelFactory_AzureProvider_CreatesAzureOpenAIServiceForDeployment()
    {
        using IHost host = Build(new()
        {
            ["Model:Provider"] = "AzureOpenAI",
            ["Model:Endpoint"] = "https://example-resource.openai.azure.com/",
            ["Model:ApiKey"] = "test-key",
            ["Model:DefaultModel"] = "gpt-4o-deployment",
        });

        IChatCompletionService chat = host.Services.GetRequiredService<ChatModelFactory>().Create(model: null);

        Assert.IsType<AzureOpenAIChatCompletionService>(chat);
    }

    [Theory]
    [InlineData("Development", null, true)]
    [InlineData("Production", null, false)]
    [InlineData("Production", "true", true)]
    [InlineData("Development", "false", false)]
    public void AddAgentWorker_WorkflowTaskTracing_OnInDevelopmentUnlessConfigured(string environment, string? setting, bool tracing)
    {
        using IHost host = Build(setting is null ? [] : new() { ["Worker:WorkflowTaskTracing"] = setting }, environment);

        TemporalWorkerServiceOptions options = host.Services.GetRequiredService<IOptionsMonitor<TemporalWorkerServiceOptions>>()
            .Get(TaskQueues.Agents); // the hosted worker's options are named by its task queue (no build id)

        Assert.Equal(!tracing, options.DisableWorkflowTracingEventListener);
    }

    private static IHost Build(Dictionary<string, string?> settings, string environment = "Development")
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddMessageBus(builder.Configuration);
        builder.Services.AddAgentWorker(builder.Configuration);
        return builder.Build();
    }
}
