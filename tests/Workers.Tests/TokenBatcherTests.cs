using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace AgentOrchestrator.Workers.Tests;

public sealed class TokenBatcherTests
{
    [Fact]
    public async Task RunAsync_PendingBelowMaxChars_FlushesOnlyAfterFlushInterval()
    {
        var time = new FakeTimeProvider();
        var batcher = new TokenBatcher(new TokenBatchingOptions { MaxChars = 64, FlushInterval = TimeSpan.FromMilliseconds(20) }, time);
        var batches = new ConcurrentQueue<TokenBatch>();
        Task running = batcher.RunAsync((batch, _) => Record(batches, batch), CancellationToken.None);

        batcher.Add("Hello", "first");
        batcher.Add(" world", "second");
        // Fake time moves only here: the batch cannot flush before the interval has passed on it.
        TimeSpan advanced = TimeSpan.Zero;
        await Eventually.TrueAsync(() =>
        {
            if (batches.IsEmpty)
            {
                time.Advance(TimeSpan.FromMilliseconds(2));
                advanced += TimeSpan.FromMilliseconds(2);
            }
            return !batches.IsEmpty;
        }, because: "the flush interval flushes a small batch");

        Assert.True(advanced >= TimeSpan.FromMilliseconds(20), $"flushed after {advanced}");
        TokenBatch flushed = Assert.Single(batches);
        Assert.Equal("Hello world", flushed.Text);
        Assert.Equal("first", flushed.FirstSource);
        batcher.Complete();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RunAsync_DeltasReachMaxChars_FlushesWithoutWaitingAndRemainderOnComplete()
    {
        var time = new FakeTimeProvider();
        var batcher = new TokenBatcher(new TokenBatchingOptions { MaxChars = 10, FlushInterval = TimeSpan.FromHours(1) }, time);
        var batches = new ConcurrentQueue<TokenBatch>();
        Task running = batcher.RunAsync((batch, _) => Record(batches, batch), CancellationToken.None);

        for (int i = 0; i < 10; i++)
        {
            batcher.Add("abc", i);
        }
        await Eventually.TrueAsync(() => batches.Count == 2, because: "full batches flush by size, time stands still");
        batcher.Complete();
        await running.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal([12, 12, 6], batches.Select(b => b.Text.Length));
        Assert.Equal(string.Concat(Enumerable.Repeat("abc", 10)), string.Concat(batches.Select(b => b.Text)));
        Assert.Equal([0, 4, 8], batches.Select(b => (int)b.FirstSource!));
    }

    [Fact]
    public async Task RunAsync_Canceled_Throws()
    {
        var batcher = new TokenBatcher(new TokenBatchingOptions(), TimeProvider.System);
        using var cts = new CancellationTokenSource();
        Task running = batcher.RunAsync((_, _) => Task.CompletedTask, cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    private static Task Record(ConcurrentQueue<TokenBatch> batches, TokenBatch batch)
    {
        batches.Enqueue(batch);
        return Task.CompletedTask;
    }
}
