using System.Text.Json;
using AgentOrchestrator.ModelSimulator.Generation;
using AgentOrchestrator.ModelSimulator.Protocol;

namespace AgentOrchestrator.ModelSimulator.Endpoints;

/// <summary>Writes a non-streaming <c>chat.completion</c> after the time the whole answer would take.</summary>
internal static class CompletionReplyWriter
{
    /// <summary>Returns false when a <c>cut:N</c> fault stopped the reply (the caller aborts the connection).</summary>
    public static async Task<bool> WriteAsync(
        HttpResponse response, ReplyContext context, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        SimulatedReply reply = context.Reply;
        int tokens = reply.CompletionTokens;
        if (context.CutAfterTokens is int cut)
        {
            await ReplyPacing.DelayAsync(context.Pacing.UntilToken(Math.Min(cut, tokens)), timeProvider, cancellationToken);
            return false;
        }

        await ReplyPacing.DelayAsync(context.Pacing.UntilToken(tokens), timeProvider, cancellationToken);
        var completion = new ChatCompletion
        {
            Id = context.Id,
            Created = context.Created,
            Model = context.Model,
            Choices =
            [
                new ChatCompletionChoice
                {
                    Message = reply.ToolCalls.Count == 0
                        ? new AssistantMessage { Content = reply.Text }
                        : new AssistantMessage { ToolCalls = ToolCalls(reply) },
                    FinishReason = reply.FinishReason,
                },
            ],
            Usage = Usage(reply),
        };
        response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(response.BodyWriter, JsonWire.WriterOptions))
        {
            JsonSerializer.Serialize(json, completion, OpenAIJsonContext.Default.ChatCompletion);
        }

        await response.BodyWriter.FlushAsync(cancellationToken);
        return true;
    }

    public static Usage Usage(SimulatedReply reply) => new()
    {
        PromptTokens = reply.PromptTokens,
        CompletionTokens = reply.CompletionTokens,
        TotalTokens = reply.PromptTokens + reply.CompletionTokens,
    };

    private static List<ToolCall> ToolCalls(SimulatedReply reply)
    {
        var calls = new List<ToolCall>(reply.ToolCalls.Count);
        foreach (ScriptedToolCall call in reply.ToolCalls)
        {
            calls.Add(new ToolCall
            {
                Id = call.Id,
                Type = "function",
                Function = new FunctionCall { Name = call.Name, Arguments = call.Arguments },
            });
        }

        return calls;
    }
}
