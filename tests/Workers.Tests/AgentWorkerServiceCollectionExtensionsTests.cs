using AgentOrchestrator.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.AzureOpenAI;
using Microsoft.SemanticKernel.Connectors.OpenAI;

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

    private static IHost Build(Dictionary<string, string?> settings)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddMessageBus(builder.Configuration);
        builder.Services.AddAgentWorker(builder.Configuration);
        return builder.Build();
    }
}
