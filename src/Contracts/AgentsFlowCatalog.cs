using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentOrchestrator.Contracts;

/// <summary>
/// What a flow accepts as its run input (the run's <c>input</c> string). The published JSON schema is produced from
/// this, and the gateway validates with the same values, so the schema and the checks cannot disagree.
/// </summary>
public sealed record FlowInputSpec
{
    /// <summary>What the input is, as the published schema describes it.</summary>
    public required string Description { get; init; }

    /// <summary>Fewest characters accepted.</summary>
    public int MinLength { get; init; } = 1;

    /// <summary>Most characters accepted.</summary>
    public int MaxLength { get; init; } = 32 * 1024;

    /// <summary>The input's JSON schema (draft 2020-12): a string with this spec's length bounds.</summary>
    public JsonElement ToJsonSchema() => JsonSerializer.SerializeToElement(new JsonObject
    {
        ["type"] = "string",
        ["description"] = Description,
        ["minLength"] = MinLength,
        ["maxLength"] = MaxLength,
    });

    /// <summary>Why <paramref name="input"/> does not match, or null when it does.</summary>
    public string? Check(string? input)
    {
        if (string.IsNullOrWhiteSpace(input))
        {
            return "'input' is required and must not be empty.";
        }
        if (input.Length < MinLength)
        {
            return $"'input' is {input.Length} characters long; this flow needs at least {MinLength}.";
        }
        return input.Length > MaxLength
            ? $"'input' is {input.Length} characters long; the limit is {MaxLength}."
            : null;
    }
}

/// <summary>A flow callers can start: its name (the workflow type), what it does, and its input.</summary>
public sealed record FlowDescriptor(string Name, string Description, FlowInputSpec Input);

/// <summary>
/// The flows this build ships, shared by the gateway (lists and validates) and the worker (registers their
/// workflows). A test in Workflows.Tests checks that every flow workflow is listed here and nothing else is.
/// </summary>
public static class FlowCatalog
{
    /// <summary>The writer-reviewer flow.</summary>
    public static FlowDescriptor WriterReviewer { get; } = new(
        Flows.WriterReviewer,
        "A writer agent answers the request; a reviewer agent improves the draft.",
        new FlowInputSpec { Description = "The request to answer." });

    /// <summary>The research-team flow.</summary>
    public static FlowDescriptor ResearchTeam { get; } = new(
        Flows.ResearchTeam,
        "A planner splits the question, researchers search the knowledge base in parallel, a writer drafts and a critic reviews it.",
        new FlowInputSpec { Description = "The research question.", MaxLength = 8 * 1024 });

    /// <summary>The support-triage flow.</summary>
    public static FlowDescriptor SupportTriage { get; } = new(
        Flows.SupportTriage,
        "A triage agent hands the customer's message to the billing, technical or account specialist; a person approves the reply (input.requested) before it is sent.",
        new FlowInputSpec { Description = "The customer's message.", MaxLength = 8 * 1024 });

    /// <summary>Every shipped flow, by name.</summary>
    public static IReadOnlyList<FlowDescriptor> All { get; } = [ResearchTeam, SupportTriage, WriterReviewer];

    /// <summary>The shipped flow named <paramref name="name"/> (ordinal), or null.</summary>
    public static FlowDescriptor? Find(string name)
    {
        foreach (FlowDescriptor flow in All)
        {
            if (string.Equals(flow.Name, name, StringComparison.Ordinal))
            {
                return flow;
            }
        }
        return null;
    }
}
