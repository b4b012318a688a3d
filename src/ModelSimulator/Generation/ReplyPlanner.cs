using AgentOrchestrator.ModelSimulator.Protocol;

namespace AgentOrchestrator.ModelSimulator.Generation;

/// <summary>
/// Decides what to answer: scripted tool calls when the last user message asks for declared tools,
/// an answer quoting the tool results when the last messages are tool results, generated text otherwise.
/// </summary>
internal static class ReplyPlanner
{
    private const int ArgumentFragmentLength = 8;

    public static SimulatedReply Plan(
        ChatCompletionRequest request, RequestFingerprint fingerprint, ModelSimulatorOptions options)
    {
        IReadOnlyList<ChatMessage?> messages = request.Messages ?? [];
        ChatMessage last = messages[^1]!;
        var random = new DeterministicRandom(fingerprint.Seed);
        int promptTokens = EstimatePromptTokens(messages);

        if (last.Role == ChatProtocol.UserRole)
        {
            List<ScriptedToolCall> calls = ScriptToolCalls(request, last, fingerprint);
            if (calls.Count > 0)
            {
                return new SimulatedReply
                {
                    ContentTokens = [],
                    ToolCalls = calls,
                    FinishReason = SimulatedReply.FinishToolCalls,
                    PromptTokens = promptTokens,
                };
            }
        }

        var tokens = new List<string>();
        if (last.Role == ChatProtocol.ToolRole)
        {
            AnswerWriter.AppendText($"Based on {TrailingToolResults(messages)}.", tokens);
        }

        AnswerWriter.AppendSentences(
            random, random.NextInclusive(options.MinAnswerTokens, options.MaxAnswerTokens), tokens);

        string finishReason = SimulatedReply.FinishStop;
        int? limit = request.MaxCompletionTokens ?? request.MaxTokens;
        if (limit is int max && max < tokens.Count)
        {
            tokens.RemoveRange(Math.Max(max, 1), tokens.Count - Math.Max(max, 1));
            finishReason = SimulatedReply.FinishLength;
        }

        return new SimulatedReply
        {
            ContentTokens = tokens,
            ToolCalls = [],
            FinishReason = finishReason,
            PromptTokens = promptTokens,
        };
    }

    private static List<ScriptedToolCall> ScriptToolCalls(
        ChatCompletionRequest request, ChatMessage last, RequestFingerprint fingerprint)
    {
        var calls = new List<ScriptedToolCall>();
        if (request.Tools is not { Count: > 0 } tools)
        {
            return calls;
        }

        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (ToolDefinition? tool in tools)
        {
            if (tool?.Function?.Name is { Length: > 0 } name)
            {
                declared.Add(name);
            }
        }

        foreach (ToolCallDirective directive in ToolCallDirectiveParser.Parse(MessageText.Flatten(last.Content)))
        {
            if (declared.Contains(directive.Name))
            {
                // Unique within the reply, stable across identical requests.
                string id = $"call_{fingerprint.Hex.AsSpan(0, 16)}{calls.Count:x2}";
                calls.Add(new ScriptedToolCall(id, directive.Name, directive.Arguments, Fragment(directive.Arguments)));
            }
        }

        return calls;
    }

    private static string TrailingToolResults(IReadOnlyList<ChatMessage?> messages)
    {
        int first = messages.Count;
        while (first > 0 && messages[first - 1]?.Role == ChatProtocol.ToolRole)
        {
            first--;
        }

        var results = new List<string>();
        for (int i = first; i < messages.Count; i++)
        {
            results.Add(MessageText.Flatten(messages[i]!.Content));
        }

        return string.Join("; ", results);
    }

    /// <summary>Splits arguments into small pieces, as a model streams them, without splitting surrogate pairs.</summary>
    private static List<string> Fragment(string arguments)
    {
        var fragments = new List<string>();
        int start = 0;
        while (start < arguments.Length)
        {
            int end = Math.Min(start + ArgumentFragmentLength, arguments.Length);
            if (end < arguments.Length && char.IsHighSurrogate(arguments[end - 1]))
            {
                end++;
            }

            fragments.Add(arguments[start..end]);
            start = end;
        }

        return fragments;
    }

    /// <summary>Rough token count (about four characters per token plus a little per message), for <c>usage</c>.</summary>
    private static int EstimatePromptTokens(IReadOnlyList<ChatMessage?> messages)
    {
        int tokens = 0;
        foreach (ChatMessage? message in messages)
        {
            int characters = message is null ? 0 : MessageText.Flatten(message.Content).Length;
            tokens += 4 + ((characters + 3) / 4);
        }

        return tokens;
    }
}
