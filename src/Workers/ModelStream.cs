using System.Text;
using AgentOrchestrator.Contracts;
using Microsoft.SemanticKernel;
using OpenAI.Chat;

namespace AgentOrchestrator.Workers;

/// <summary>A streamed model call's outcome: the whole text, the usage the model reported, and how many token deltas went out.</summary>
internal readonly record struct ModelStreamResult(string Text, int PromptTokens, int CompletionTokens, long Deltas);

/// <summary>The streaming part every model activity shares: text goes out as batched token deltas of one step attempt.</summary>
internal static class ModelStream
{
    /// <summary>
    /// Reads <paramref name="updates"/> to the end, publishing its text through <paramref name="events"/> as token deltas
    /// (indices 0, 1, ...) batched by <paramref name="batching"/>; <paramref name="onUpdate"/> sees every update (e.g.
    /// tool-call fragments). If the stream fails, what was read still goes out before the failure is rethrown: the
    /// next attempt supersedes it, and subscribers see that this attempt streamed.
    /// </summary>
    public static async Task<ModelStreamResult> PublishAsync(IAsyncEnumerable<StreamingChatMessageContent> updates, StepEventPublisher events,
        TokenBatchingOptions batching, TimeProvider time, ILogger logger, Action<StreamingChatMessageContent>? onUpdate, CancellationToken cancellationToken)
    {
        var batcher = new TokenBatcher(batching, time);
        long index = 0;
        // Endpoints that do not stamp their chunks (anything but the simulator) are not asked again every batch.
        bool? modelStamps = null;
        Task flushing = batcher.RunAsync(async (batch, ct) =>
        {
            // Publishes may overlap (TokenBatcher); everything up to the first await runs in batch order.
            long current = index++;
            long? emittedAtUs = null;
            if (modelStamps != false && batch.FirstSource is StreamingChatMessageContent first)
            {
                emittedAtUs = ModelChunkStamps.EmittedAtUs(first);
                modelStamps ??= emittedAtUs is not null;
            }
            await events.PublishTokenAsync(current, batch.Text, emittedAtUs, batch.FirstReceivedAtUs, ct);
            if (logger.IsEnabled(LogLevel.Trace))
            {
                WorkerLog.TokenDeltaPublished(logger, current, batch.Text.Length);
            }
        }, cancellationToken);

        var text = new StringBuilder();
        int promptTokens = 0;
        int completionTokens = 0;
        try
        {
            await foreach (StreamingChatMessageContent update in updates.WithCancellation(cancellationToken))
            {
                if (update.Content is { Length: > 0 } delta)
                {
                    text.Append(delta);
                    batcher.Add(delta, update, TokenPath.NowUs(time));
                }
                onUpdate?.Invoke(update);
                if (update.InnerContent is StreamingChatCompletionUpdate { Usage: { } usage })
                {
                    promptTokens = usage.InputTokenCount;
                    completionTokens = usage.OutputTokenCount;
                }
            }
        }
        catch
        {
            // Publishes already under way finish rather than being cut off; the stream's failure, not a flush's,
            // is what the activity reports (a canceled run cancels the publishes through the token).
            batcher.Complete();
            await flushing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }
        batcher.Complete();
        await flushing;
        return new ModelStreamResult(text.ToString(), promptTokens, completionTokens, index);
    }
}
