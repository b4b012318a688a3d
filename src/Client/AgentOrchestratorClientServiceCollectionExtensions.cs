using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Client;

/// <summary>Registers <see cref="AgentOrchestratorClient"/> in a service collection.</summary>
public static class AgentOrchestratorClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="AgentOrchestratorClient"/> configured by <paramref name="configure"/> (further
    /// configuration with <c>services.Configure&lt;AgentOrchestratorClientOptions&gt;</c> applies too). The options
    /// are validated when the host starts.
    /// </summary>
    public static OptionsBuilder<AgentOrchestratorClientOptions> AddAgentOrchestratorClient(this IServiceCollection services,
        Action<AgentOrchestratorClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AgentOrchestratorClientOptions>, AgentOrchestratorClientOptionsValidator>());
        services.TryAddSingleton(provider => new AgentOrchestratorClient(
            provider.GetRequiredService<IOptions<AgentOrchestratorClientOptions>>().Value,
            provider.GetService<ILoggerFactory>()));
        return services.AddOptions<AgentOrchestratorClientOptions>().Configure(configure).ValidateOnStart();
    }
}
