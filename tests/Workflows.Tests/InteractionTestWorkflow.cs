using System.Text.Json;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows.Tests;

/// <summary>What the interaction test workflow asks: one request per id, in order; a timeout applies to the first only.</summary>
public sealed record InteractionTestInput(IReadOnlyList<string> RequestIds, int? FirstTimeoutSeconds);

/// <summary>
/// A flow that asks people for input through <see cref="HumanInput"/> and returns what it got, one line per request
/// ("answered:{json}" or "timeout:{json}"): the human-in-the-loop primitive as a flow author uses it.
/// </summary>
[Workflow("interaction-test")]
public sealed class InteractionTestWorkflow
{
    public const string Prompt = "Approve the draft?";

    public static JsonElement Schema { get; } = JsonDocument.Parse("""
        {"type": "object", "properties": {"approved": {"type": "boolean"}, "note": {"type": "string"}},
         "required": ["approved"], "additionalProperties": false}
        """).RootElement.Clone();

    public static JsonElement DefaultAnswer { get; } = JsonDocument.Parse("""{"approved": false}""").RootElement.Clone();

    [WorkflowRun]
    public async Task<string> RunAsync(InteractionTestInput input)
    {
        var lines = new List<string>();
        for (int i = 0; i < input.RequestIds.Count; i++)
        {
            bool timed = i == 0 && input.FirstTimeoutSeconds is not null;
            HumanInputAnswer answer = await HumanInput.RequestAsync(input.RequestIds[i], Prompt, Schema,
                timed ? TimeSpan.FromSeconds(input.FirstTimeoutSeconds!.Value) : null, timed ? DefaultAnswer : null);
            lines.Add($"{(answer.TimedOut ? "timeout" : "answered")}:{answer.Answer.GetRawText()}");
        }
        return string.Join("\n", lines);
    }
}
