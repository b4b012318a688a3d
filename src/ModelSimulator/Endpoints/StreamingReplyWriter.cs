using AgentOrchestrator.ModelSimulator.Generation;
using AgentOrchestrator.ModelSimulator.Protocol;

namespace AgentOrchestrator.ModelSimulator.Endpoints;

/// <summary>
/// Streams a reply as OpenAI <c>chat.completion.chunk</c> server-sent events: role chunk, one chunk per token
/// (or tool-call header / argument fragment), finish chunk, optional usage chunk, <c>[DONE]</c>.
/// </summary>
internal static class StreamingReplyWriter
{
    /// <summary>Returns false when a <c>cut:N</c> fault stopped the stream (the caller aborts the connection).</summary>
    public static async Task<bool> WriteAsync(
        HttpResponse response, ReplyContext context, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";

        // Headers go out now, so the client sees the stream open while the "model" is still thinking.
        await response.StartAsync(cancellationToken);

        using var events = new ServerSentEventWriter(response.BodyWriter);
        List<ChunkDelta> deltas = BuildDeltas(context.Reply);
        bool textReply = context.Reply.ToolCalls.Count == 0;
        for (int i = 0; i < deltas.Count; i++)
        {
            if (context.CutAfterTokens is int cut && i >= cut)
            {
                return false;
            }

            TimeSpan delay = i == 0 ? context.Pacing.TimeToFirstToken : context.Pacing.TokenInterval;
            await ReplyPacing.DelayAsync(delay, timeProvider, cancellationToken);
            if (i == 0 && textReply)
            {
                // OpenAI opens a text answer with an empty assistant delta, sent together with the first token.
                await events.WriteChunkAsync(
                    Chunk(context, new ChunkDelta { Role = ChatProtocol.AssistantRole, Content = string.Empty }),
                    cancellationToken);
            }

            await events.WriteChunkAsync(Chunk(context, deltas[i]), cancellationToken);
        }

        if (context.CutAfterTokens is not null)
        {
            // cut:N never finishes, even when the answer had N tokens or fewer.
            return false;
        }

        await events.WriteChunkAsync(Chunk(context, new ChunkDelta(), context.Reply.FinishReason), cancellationToken);
        if (context.IncludeUsage)
        {
            await events.WriteChunkAsync(UsageChunk(context), cancellationToken);
        }

        await events.WriteDoneAsync(cancellationToken);
        return true;
    }

    private static List<ChunkDelta> BuildDeltas(SimulatedReply reply)
    {
        var deltas = new List<ChunkDelta>(reply.CompletionTokens);
        foreach (string token in reply.ContentTokens)
        {
            deltas.Add(new ChunkDelta { Content = token });
        }

        for (int index = 0; index < reply.ToolCalls.Count; index++)
        {
            ScriptedToolCall call = reply.ToolCalls[index];
            deltas.Add(new ChunkDelta
            {
                Role = index == 0 ? ChatProtocol.AssistantRole : null,
                ToolCalls =
                [
                    new ToolCallDelta
                    {
                        Index = index,
                        Id = call.Id,
                        Type = "function",
                        Function = new FunctionCall { Name = call.Name, Arguments = string.Empty },
                    },
                ],
            });
            foreach (string fragment in call.ArgumentFragments)
            {
                deltas.Add(new ChunkDelta
                {
                    ToolCalls = [new ToolCallDelta { Index = index, Function = new FunctionCall { Arguments = fragment } }],
                });
            }
        }

        return deltas;
    }

    private static ChatCompletionChunk Chunk(ReplyContext context, ChunkDelta delta, string? finishReason = null) => new()
    {
        Id = context.Id,
        Created = context.Created,
        Model = context.Model,
        Choices = [new ChunkChoice { Delta = delta, FinishReason = finishReason }],
    };

    private static ChatCompletionChunk UsageChunk(ReplyContext context) => new()
    {
        Id = context.Id,
        Created = context.Created,
        Model = context.Model,
        Choices = [],
        Usage = CompletionReplyWriter.Usage(context.Reply),
    };
}
