using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Catalog;

namespace AgentOrchestrator.Gateway.Runs;

/// <summary>One set of rules for REST and the hub: a flow the <see cref="FlowRegistry"/> knows, and an input its spec accepts.</summary>
public sealed class RunRequestValidator(FlowRegistry flows)
{
    /// <summary>Field name → messages; null when the request is valid.</summary>
    public Dictionary<string, string[]>? Validate(string? flow, string? input)
    {
        Dictionary<string, string[]>? errors = null;
        FlowDescriptor? descriptor = null;
        if (string.IsNullOrWhiteSpace(flow))
        {
            (errors ??= [])["flow"] = ["'flow' is required."];
        }
        else if ((descriptor = flows.Find(flow)) is null)
        {
            (errors ??= [])["flow"] = [$"Unknown flow '{Truncate(flow)}'. Known flows: {string.Join(", ", flows.All.Select(f => f.Name))}."];
        }
        // Without a known flow, the input is still checked against the default text spec, so every problem is reported at once.
        FlowInputSpec spec = descriptor?.Input ?? flows.DefaultInput;
        if (spec.Check(input) is { } inputError)
        {
            (errors ??= [])["input"] = [inputError];
        }
        return errors;
    }

    /// <summary>All messages in one line, for the hub (a HubException carries one message).</summary>
    public static string Describe(Dictionary<string, string[]> errors) =>
        string.Join(" ", errors.Values.SelectMany(messages => messages));

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
