using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.Runs;

/// <summary>One set of rules for REST and the hub: known flow, non-empty input within the length limit.</summary>
public sealed class RunRequestValidator(IOptions<GatewayOptions> options)
{
    /// <summary>Field name → messages; null when the request is valid.</summary>
    public Dictionary<string, string[]>? Validate(string? flow, string? input)
    {
        var gateway = options.Value;
        Dictionary<string, string[]>? errors = null;
        if (string.IsNullOrWhiteSpace(flow))
        {
            (errors ??= [])["flow"] = ["'flow' is required."];
        }
        else if (!gateway.Flows.Contains(flow))
        {
            (errors ??= [])["flow"] = [$"Unknown flow '{Truncate(flow)}'. Known flows: {string.Join(", ", gateway.Flows.Order(StringComparer.Ordinal))}."];
        }
        if (string.IsNullOrWhiteSpace(input))
        {
            (errors ??= [])["input"] = ["'input' is required and must not be empty."];
        }
        else if (input.Length > gateway.MaxInputLength)
        {
            (errors ??= [])["input"] = [$"'input' is {input.Length} characters long; the limit is {gateway.MaxInputLength}."];
        }
        return errors;
    }

    /// <summary>All messages in one line, for the hub (a HubException carries one message).</summary>
    public static string Describe(Dictionary<string, string[]> errors) =>
        string.Join(" ", errors.Values.SelectMany(messages => messages));

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
