using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.SemanticKernel;

namespace AgentOrchestrator.Workers.Tools;

/// <summary>Registers the tools agents may call: Semantic Kernel plugins, run by the agent.tool-call activity.</summary>
public static class AgentToolServiceCollectionExtensions
{
    /// <summary>
    /// Adds the plugin type <typeparamref name="TPlugin"/> (its [KernelFunction] methods) as plugin
    /// <paramref name="pluginName"/>; the model sees its tools as "pluginName-function". Constructor dependencies
    /// come from DI.
    /// </summary>
    public static IServiceCollection AddAgentPlugin<TPlugin>(this IServiceCollection services, string pluginName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pluginName);
        services.AddSingleton(provider => KernelPluginFactory.CreateFromType<TPlugin>(pluginName, provider));
        return services;
    }

    /// <summary>Adds one function as a plugin of its own (e.g. made with KernelFunctionFactory.CreateFromMethod).</summary>
    public static IServiceCollection AddAgentTool(this IServiceCollection services, string pluginName, KernelFunction function)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pluginName);
        ArgumentNullException.ThrowIfNull(function);
        services.AddSingleton(_ => KernelPluginFactory.CreateFromFunctions(pluginName, [function]));
        return services;
    }

    /// <summary>The toolbox and the built-in tools: the library's control tools and the knowledge-base search.</summary>
    internal static IServiceCollection AddAgentToolbox(this IServiceCollection services)
    {
        services.TryAddSingleton<AgentToolbox>();
        services.AddAgentPlugin<FlowControlPlugin>(FlowControlPlugin.PluginName);
        services.AddAgentPlugin<KnowledgeBasePlugin>(KnowledgeBasePlugin.PluginName);
        return services;
    }
}
