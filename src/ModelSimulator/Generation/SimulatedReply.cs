namespace AgentOrchestrator.ModelSimulator.Generation;

/// <summary>
/// Everything the simulator will say for one request, decided up front so that streaming and non-streaming
/// answers are the same and the per-token loop only paces and writes.
/// </summary>
internal sealed class SimulatedReply
{
    public const string FinishStop = "stop";
    public const string FinishLength = "length";
    public const string FinishToolCalls = "tool_calls";

    /// <summary>Text tokens (empty when the reply is tool calls).</summary>
    public required IReadOnlyList<string> ContentTokens { get; init; }

    /// <summary>Scripted tool calls (empty for a text reply).</summary>
    public required IReadOnlyList<ScriptedToolCall> ToolCalls { get; init; }

    public required string FinishReason { get; init; }

    public required int PromptTokens { get; init; }

    /// <summary>Number of streamed deltas: one per text token, or per tool-call header and argument fragment.</summary>
    public int CompletionTokens
    {
        get
        {
            int count = ContentTokens.Count;
            foreach (ScriptedToolCall call in ToolCalls)
            {
                count += 1 + call.ArgumentFragments.Count;
            }

            return count;
        }
    }

    public string Text => string.Concat(ContentTokens);
}

/// <summary>A tool call the prompt asked for; arguments are streamed in <see cref="ArgumentFragments"/>.</summary>
internal sealed record ScriptedToolCall(string Id, string Name, string Arguments, IReadOnlyList<string> ArgumentFragments);
