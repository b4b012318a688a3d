using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Client.Tests;

public sealed class AgentOrchestratorClientOptionsTests
{
    [Fact]
    public async Task AddAgentOrchestratorClient_ValidOptions_ResolvesOneClient()
    {
        var services = new ServiceCollection();
        services.AddAgentOrchestratorClient(o =>
        {
            o.BaseAddress = new Uri("http://127.0.0.1:5000");
            o.ApiKey = "key";
        });
        await using var provider = services.BuildServiceProvider();

        Assert.Same(provider.GetRequiredService<AgentOrchestratorClient>(), provider.GetRequiredService<AgentOrchestratorClient>());
    }

    [Fact]
    public async Task AddAgentOrchestratorClient_InvalidOptions_NamesEveryProblem()
    {
        var services = new ServiceCollection();
        services.AddAgentOrchestratorClient(o =>
        {
            o.BaseAddress = new Uri("ftp://example.com");
            o.ApiKey = "key";
            o.AccessTokenProvider = _ => ValueTask.FromResult("token");
            o.Reconnect.MaxDelay = TimeSpan.FromMilliseconds(1);
        });
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<AgentOrchestratorClient>());

        Assert.Contains(error.Failures, f => f.Contains("BaseAddress", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("exactly one of AccessTokenProvider and ApiKey", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("MaxDelay", StringComparison.Ordinal));
    }
}
