using System.Text;
using System.Threading.Channels;

namespace AgentOrchestrator.Workers;

/// <summary>A piece of model output as it arrived: its text, the model update it came from and when it arrived (Unix µs).</summary>
internal readonly record struct TokenDelta(string Text, object? Source, long ReceivedAtUs);

/// <summary>
/// Consecutive deltas joined into one bus message. <see cref="FirstSource"/> is the first delta's model update,
/// kept so that per-batch details (such as the model's emit stamp) are read once per batch, not once per token;
/// <see cref="FirstReceivedAtUs"/> is when it arrived (0: not stamped).
/// </summary>
internal readonly record struct TokenBatch(string Text, object? FirstSource, long FirstReceivedAtUs = 0);

/// <summary>
/// Joins a model stream's deltas into bus messages by natural batching: a delta that arrives while no publish is
/// in flight goes out at once (so the first delta of a step never waits), and deltas that arrive while a publish
/// is in flight wait for it and then go out together. A waiting batch is published alongside the one in flight
/// (up to <see cref="TokenBatchingOptions.MaxPublishesInFlight"/>) once it holds
/// <see cref="TokenBatchingOptions.MaxChars"/> or is <see cref="TokenBatchingOptions.FlushInterval"/> old, so a slow
/// bus bounds neither a message's size nor a token's wait; gateways put deltas published side by side back into
/// index order. A fast model thus costs one message per publish round trip, not one per token, and a slow one is
/// never held back. On an idle bus one more bound applies: a step publishes at most one message per
/// <see cref="TokenBatchingOptions.MinInterval"/>, so a model faster than the bus's round trip (an in-memory bus has
/// almost none) still costs a message per MaxChars or per interval, not one per token, while a delta after a quiet
/// spell goes out at once. One producer calls <see cref="Add"/>; <see cref="RunAsync"/> calls the flush in index order.
/// </summary>
internal sealed class TokenBatcher(TokenBatchingOptions options, TimeProvider time)
{
    private readonly Channel<TokenDelta> _deltas = Channel.CreateUnbounded<TokenDelta>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    private Task<bool>? _pendingRead;

    public void Add(string text, object? source, long receivedAtUs = 0) => _deltas.Writer.TryWrite(new TokenDelta(text, source, receivedAtUs));

    /// <summary>No more deltas: <see cref="RunAsync"/> flushes what is pending, waits for every publish and returns.</summary>
    public void Complete() => _deltas.Writer.TryComplete();

    public async Task RunAsync(Func<TokenBatch, CancellationToken, Task> flush, CancellationToken cancellationToken)
    {
        ChannelReader<TokenDelta> reader = _deltas.Reader;
        var inFlight = new List<Task>(options.MaxPublishesInFlight);
        var text = new StringBuilder(Math.Max(16, options.MaxChars * 2));
        object? firstSource = null;
        long firstReceivedAtUs = 0;
        long firstArrived = 0;
        long? lastPublished = null;
        bool readerDone = false;
        try
        {
            while (true)
            {
                while (text.Length < options.MaxChars && reader.TryRead(out TokenDelta delta))
                {
                    if (text.Length == 0)
                    {
                        firstSource = delta.Source;
                        firstReceivedAtUs = delta.ReceivedAtUs;
                        firstArrived = time.GetTimestamp();
                    }
                    text.Append(delta.Text);
                }
                await ReapCompletedAsync(inFlight);
                readerDone = readerDone || reader.Completion.IsCompleted;
                // How much longer the pending text may wait: on an idle bus until MinInterval after the last publish
                // (at once after a quiet spell), on a busy one FlushInterval after it arrived; once the stream has
                // ended nothing more can join, so nothing waits.
                TimeSpan wait = readerDone || text.Length >= options.MaxChars ? TimeSpan.Zero
                    : inFlight.Count == 0 ? (lastPublished is { } last ? options.MinInterval - time.GetElapsedTime(last) : TimeSpan.Zero)
                    : options.FlushInterval - time.GetElapsedTime(firstArrived);
                if (text.Length > 0 && inFlight.Count < options.MaxPublishesInFlight && wait <= TimeSpan.Zero)
                {
                    // Called here, in order, so the flush sees batches in index order even when publishes overlap.
                    lastPublished = time.GetTimestamp();
                    inFlight.Add(flush(new TokenBatch(text.ToString(), firstSource, firstReceivedAtUs), cancellationToken));
                    text.Clear();
                    firstSource = null;
                    continue;
                }
                if (readerDone && text.Length == 0 && inFlight.Count == 0)
                {
                    return;
                }
                await WaitForChangeAsync(reader, inFlight, readerDone || text.Length >= options.MaxChars,
                    text.Length > 0 && inFlight.Count < options.MaxPublishesInFlight ? wait : null,
                    cancellationToken);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch when (inFlight.Count > 0)
        {
            // Leave no publish unobserved; the first failure (or the cancellation) is what the caller sees.
            await Task.WhenAll(inFlight).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }
    }

    private static async Task ReapCompletedAsync(List<Task> inFlight)
    {
        for (int i = inFlight.Count - 1; i >= 0; i--)
        {
            if (inFlight[i].IsCompleted)
            {
                Task done = inFlight[i];
                inFlight.RemoveAt(i);
                await done; // rethrows a failed publish
            }
        }
    }

    /// <summary>
    /// Returns when something may let the loop move: a delta can be read (unless <paramref name="skipRead"/>), a
    /// publish finished, or the pending batch reached its age (<paramref name="untilAged"/>).
    /// </summary>
    private async Task WaitForChangeAsync(ChannelReader<TokenDelta> reader, List<Task> inFlight, bool skipRead, TimeSpan? untilAged,
        CancellationToken cancellationToken)
    {
        if (untilAged <= TimeSpan.Zero)
        {
            return;
        }
        var waits = new List<Task>(inFlight.Count + 2);
        waits.AddRange(inFlight);
        if (!skipRead)
        {
            // One outstanding read wait at a time (the channel has a single reader), reused until it completes.
            _pendingRead ??= reader.WaitToReadAsync(cancellationToken).AsTask();
            waits.Add(_pendingRead);
        }
        if (untilAged is { } delay)
        {
            // Only a wait with an age needs a timer (and a source to stop it): most waits are for a publish or a read.
            using var delayCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            waits.Add(Task.Delay(delay, time, delayCancel.Token));
            await Task.WhenAny(waits);
            await delayCancel.CancelAsync();
        }
        else if (waits.Count > 0)
        {
            await Task.WhenAny(waits);
        }
        else
        {
            return;
        }
        if (_pendingRead is { IsCompleted: true } read)
        {
            _pendingRead = null;
            await read; // surfaces a canceled read as the cancellation
        }
    }
}
