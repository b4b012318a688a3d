using System.Text;
using System.Threading.Channels;

namespace AgentOrchestrator.Workers;

/// <summary>A piece of model output as it arrived: its text and the model update it came from.</summary>
internal readonly record struct TokenDelta(string Text, object? Source);

/// <summary>
/// Consecutive deltas joined into one bus message. <see cref="FirstSource"/> is the first delta's model update,
/// kept so that per-batch details (such as the model's emit stamp) are read once per batch, not once per token.
/// </summary>
internal readonly record struct TokenBatch(string Text, object? FirstSource);

/// <summary>
/// Joins a model stream's deltas into batches: a batch is flushed when it reaches
/// <see cref="TokenBatchingOptions.MaxChars"/> or <see cref="TokenBatchingOptions.FlushInterval"/> after its
/// first delta arrived, whichever comes first, so a fast model does not cost one broker message per token and a
/// slow one is not held back. One producer calls <see cref="Add"/>; <see cref="RunAsync"/> flushes in order.
/// </summary>
internal sealed class TokenBatcher(TokenBatchingOptions options, TimeProvider time)
{
    private readonly Channel<TokenDelta> _deltas = Channel.CreateUnbounded<TokenDelta>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    private Task<bool>? _pendingWait;

    public void Add(string text, object? source) => _deltas.Writer.TryWrite(new TokenDelta(text, source));

    /// <summary>No more deltas: <see cref="RunAsync"/> flushes what is pending and returns.</summary>
    public void Complete() => _deltas.Writer.TryComplete();

    public async Task RunAsync(Func<TokenBatch, CancellationToken, Task> flush, CancellationToken cancellationToken)
    {
        ChannelReader<TokenDelta> reader = _deltas.Reader;
        var text = new StringBuilder(Math.Max(16, options.MaxChars * 2));
        while (await WaitToReadAsync(reader, cancellationToken))
        {
            long firstArrived = time.GetTimestamp();
            object? firstSource = null;
            bool first = true;
            while (true)
            {
                while (text.Length < options.MaxChars && reader.TryRead(out TokenDelta delta))
                {
                    if (first)
                    {
                        firstSource = delta.Source;
                        first = false;
                    }
                    text.Append(delta.Text);
                }
                if (text.Length >= options.MaxChars)
                {
                    break;
                }
                TimeSpan remaining = options.FlushInterval - time.GetElapsedTime(firstArrived);
                if (remaining <= TimeSpan.Zero || !await WaitToReadAsync(reader, remaining, cancellationToken))
                {
                    break;
                }
            }
            if (text.Length > 0)
            {
                await flush(new TokenBatch(text.ToString(), firstSource), cancellationToken);
                text.Clear();
            }
        }
    }

    // One outstanding wait at a time (the channel has a single reader); a wait that outlived a timed-out
    // flush interval is reused by the next call rather than abandoned.
    private async Task<bool> WaitToReadAsync(ChannelReader<TokenDelta> reader, CancellationToken cancellationToken)
    {
        Task<bool> wait = _pendingWait ?? reader.WaitToReadAsync(cancellationToken).AsTask();
        _pendingWait = null;
        return await wait;
    }

    /// <summary>True when more deltas can be read; false when the interval ran out or the stream completed.</summary>
    private async Task<bool> WaitToReadAsync(ChannelReader<TokenDelta> reader, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task<bool> wait = _pendingWait ?? reader.WaitToReadAsync(cancellationToken).AsTask();
        if (!wait.IsCompleted)
        {
            using var delayCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task delay = Task.Delay(timeout, time, delayCancel.Token);
            if (await Task.WhenAny(wait, delay) != wait)
            {
                cancellationToken.ThrowIfCancellationRequested();
                _pendingWait = wait;
                return false;
            }
            await delayCancel.CancelAsync();
        }
        _pendingWait = null;
        return await wait;
    }
}
