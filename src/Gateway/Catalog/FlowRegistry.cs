using AgentOrchestrator.Contracts;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.Catalog;

/// <summary>
/// The flows callers may start: the shipped <see cref="FlowCatalog"/> plus any flow a host adds through
/// configuration or <see cref="RunGatewayBuilder.AddFlow"/> (those take a non-empty text input). Every input limit
/// is capped by <see cref="GatewayOptions.MaxInputLength"/>.
/// </summary>
public sealed class FlowRegistry(IOptions<GatewayOptions> options)
{
    public IReadOnlyList<FlowDescriptor> All
    {
        get
        {
            var flows = new List<FlowDescriptor>(FlowCatalog.All.Count + options.Value.Flows.Count);
            foreach (FlowDescriptor flow in FlowCatalog.All)
            {
                flows.Add(Capped(flow));
            }
            foreach (string name in options.Value.Flows)
            {
                if (FlowCatalog.Find(name) is null)
                {
                    flows.Add(HostAdded(name));
                }
            }
            flows.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return flows;
        }
    }

    public FlowDescriptor? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return FlowCatalog.Find(name) is { } shipped ? Capped(shipped)
            : options.Value.Flows.Contains(name) ? HostAdded(name)
            : null;
    }

    private FlowDescriptor Capped(FlowDescriptor flow) =>
        flow.Input.MaxLength <= options.Value.MaxInputLength
            ? flow
            : flow with { Input = flow.Input with { MaxLength = options.Value.MaxInputLength } };

    /// <summary>The input spec of host-added flows: non-empty text up to the gateway's limit.</summary>
    public FlowInputSpec DefaultInput => new() { Description = "The run's input text.", MaxLength = options.Value.MaxInputLength };

    private FlowDescriptor HostAdded(string name) => new(name, "Added by this gateway's configuration.", DefaultInput);
}
