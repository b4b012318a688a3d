using Microsoft.SemanticKernel;

namespace AgentOrchestrator.Workers.Tools;

/// <summary>
/// The tools registered on this worker (every <see cref="KernelPlugin"/> in DI, see AddAgentPlugin / AddAgentTool),
/// as one kernel. Tools are addressed as the model sees them: "Plugin-Function".
/// </summary>
public sealed class AgentToolbox(IEnumerable<KernelPlugin> plugins, IServiceProvider services)
{
    /// <summary>How Semantic Kernel's OpenAI connector joins plugin and function names for the model.</summary>
    public const char NameSeparator = '-';

    /// <summary>A kernel holding every registered plugin.</summary>
    public Kernel Kernel { get; } = new(services, new KernelPluginCollection(plugins));

    /// <summary>The function named <paramref name="tool"/> ("Plugin-Function"), or null when none is registered.</summary>
    public KernelFunction? Find(string tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        int separator = tool.IndexOf(NameSeparator, StringComparison.Ordinal);
        return separator > 0 && Kernel.Plugins.TryGetFunction(tool[..separator], tool[(separator + 1)..], out KernelFunction? function)
            ? function
            : null;
    }

    /// <summary>Every tool's name, for error messages.</summary>
    public IEnumerable<string> Names =>
        Kernel.Plugins.SelectMany(plugin => plugin.Select(function => $"{plugin.Name}{NameSeparator}{function.Name}"));
}
