using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace AgentOrchestrator.Workers.Tests;

/// <summary>
/// The natural batching rule: a delta goes out at once when no publish is in flight (and none left within
/// MinInterval); deltas that arrive during a publish join the next message, which leaves when the publish finishes
/// or, alongside it, at MaxChars or FlushInterval. Fake time stands still unless a test moves it, and publishes
/// finish only when a test says so.
/// </summary>
public sealed class TokenBatcherTests
{
    [Fact]
    public async Task RunAsync_IdleBus_PublishesFirstDeltaWithoutWaitingForFlushInterval()
    {
        var time = new FakeTimeProvider();
        var batcher = new TokenBatcher(new TokenBatchingOptions { MaxChars = 64, FlushInterval = TimeSpan.FromHours(1) }, time);
        var publishes = new GatedPublishes();
        Task running = batcher.RunAsync(publishes.PublishAsync, CancellationToken.None);

        batcher.Add("Hello", "first");

        await Eventually.TrueAsync(() => publishes.Count == 1, because: "the first delta goes out at once; time stands still");
        Assert.Equal(new TokenBatch("Hello", "first"), publishes.Batch(0));
        publishes.Finish(0);
        batcher.Complete();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, publishes.Count);
    }

    [Fact]
    public async Task RunAsync_DeltasArriveWhilePublishInFlight_JoinsThemIntoOneMessageWhenItFinishes()
    {
        var time = new FakeTimeProvider();
        var batcher = new TokenBatcher(new TokenBatchingOptions { MaxChars = 64, FlushInterval = TimeSpan.FromHours(1), MinInterval = TimeSpan.Zero }, time);
        var publishes = new GatedPublishes();
        Task running = batcher.RunAsync(publishes.PublishAsync, CancellationToken.None);
        batcher.Add("One", 0);
        await Eventually.TrueAsync(() => publishes.Count == 1, because: "the first delta goes out at once");

        batcher.Add(" two", 1, receivedAtUs: 200);
        batcher.Add(" three", 2, receivedAtUs: 300);
        Assert.Equal(1, publishes.Count);
        publishes.Finish(0);

        await Eventually.TrueAsync(() => publishes.Count == 2, because: "the waiting deltas leave when the publish finishes");
        // The joined message keeps its first delta's model update and arrival stamp (its latency is the first token's).
        Assert.Equal(new TokenBatch(" two three", 1, 200), publishes.Batch(1));
        publishes.Finish(1);
        batcher.Add(" four", 3);
        await Eventually.TrueAsync(() => publishes.Count == 3, because: "the bus is idle again, so a delta goes out at once");
        Assert.Equal(new TokenBatch(" four", 3), publishes.Batch(2));
        publishes.Finish(2);
        batcher.Complete();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RunAsync_WaitingDeltaReachesFlushInterval_PublishesAlongsideTheOneInFlight()
    {
        var time = new FakeTimeProvider();
        var batcher = new TokenBatcher(new TokenBatchingOptions { MaxChars = 64, FlushInterval = TimeSpan.FromMilliseconds(20) }, time);
        var publishes = new GatedPublishes();
        Task running = batcher.RunAsync(publishes.PublishAsync, CancellationToken.None);
        batcher.Add("slow", 0);
        await Eventually.TrueAsync(() => publishes.Count == 1, because: "the first delta goes out at once");

        batcher.Add(" bus", 1);
        // Fake time moves only here: the waiting delta cannot leave before it is FlushInterval old.
        TimeSpan advanced = TimeSpan.Zero;
        await Eventually.TrueAsync(() =>
        {
            if (publishes.Count == 1)
            {
                time.Advance(TimeSpan.FromMilliseconds(2));
                advanced += TimeSpan.FromMilliseconds(2);
            }
            return publishes.Count == 2;
        }, because: "a delta waits behind a publish in flight for at most FlushInterval");

        Assert.True(advanced >= TimeSpan.FromMilliseconds(20), $"published after {advanced}");
        Assert.Equal(new TokenBatch(" bus", 1), publishes.Batch(1));
        Assert.False(publishes.IsFinished(0), "the first publish is still in flight");
        publishes.Finish(0);
        publishes.Finish(1);
        batcher.Complete();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RunAsync_WaitingDeltasReachMaxChars_OverlapUpToMaxPublishesInFlightAndKeepOrder()
    {
        var time = new FakeTimeProvider();
        var batcher = new TokenBatcher(new TokenBatchingOptions { MaxChars = 10, FlushInterval = TimeSpan.FromHours(1), MaxPublishesInFlight = 2, MinInterval = TimeSpan.Zero }, time);
        var publishes = new GatedPublishes();
        Task running = batcher.RunAsync(publishes.PublishAsync, CancellationToken.None);
        batcher.Add("abc", 0);
        await Eventually.TrueAsync(() => publishes.Count == 1, because: "the first delta goes out at once");

        for (int i = 1; i < 10; i++)
        {
            batcher.Add("abc", i);
        }
        await Eventually.TrueAsync(() => publishes.Count == 2, because: "a full batch goes out beside the publish in flight");
        Assert.Equal(new TokenBatch("abcabcabcabc", 1), publishes.Batch(1));
        // Two in flight is the limit: the next full batch waits until one of them finishes.
        Assert.Equal(2, publishes.Count);
        publishes.Finish(1);
        await Eventually.TrueAsync(() => publishes.Count == 3, because: "a finished publish frees a place");
        Assert.Equal(new TokenBatch("abcabcabcabc", 5), publishes.Batch(2));
        // The last delta is neither full nor old: it waits until nothing is in flight.
        publishes.Finish(0);
        publishes.Finish(2);
        await Eventually.TrueAsync(() => publishes.Count == 4, because: "the rest goes out when the bus is idle");
        Assert.Equal(new TokenBatch("abc", 9), publishes.Batch(3));
        publishes.Finish(3);
        batcher.Complete();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RunAsync_DeltasFasterThanMinInterval_JoinUntilItPassedSinceTheLastPublish()
    {
        var time = new FakeTimeProvider();
        var batcher = new TokenBatcher(new TokenBatchingOptions { MaxChars = 64, MinInterval = TimeSpan.FromMilliseconds(20) }, time);
        var publishes = new GatedPublishes();
        Task running = batcher.RunAsync(publishes.PublishAsync, CancellationToken.None);
        batcher.Add("fast", 0);
        await Eventually.TrueAsync(() => publishes.Count == 1, because: "the first delta goes out at once");
        publishes.Finish(0);

        batcher.Add(" model", 1);
        batcher.Add(" here", 2);
        // Fake time moves only here: the bus is idle, yet the next message waits for MinInterval since the last one.
        TimeSpan advanced = TimeSpan.Zero;
        await Eventually.TrueAsync(() =>
        {
            if (publishes.Count == 1)
            {
                time.Advance(TimeSpan.FromMilliseconds(2));
                advanced += TimeSpan.FromMilliseconds(2);
            }
            return publishes.Count == 2;
        }, because: "the next message leaves MinInterval after the last one");

        Assert.True(advanced >= TimeSpan.FromMilliseconds(20), $"published after {advanced}");
        Assert.Equal(new TokenBatch(" model here", 1), publishes.Batch(1));
        publishes.Finish(1);
        batcher.Complete();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RunAsync_StreamEndsWithinMinInterval_PublishesTheRestAtOnce()
    {
        var batcher = new TokenBatcher(new TokenBatchingOptions { MinInterval = TimeSpan.FromHours(1) }, new FakeTimeProvider());
        var publishes = new GatedPublishes();
        Task running = batcher.RunAsync(publishes.PublishAsync, CancellationToken.None);
        batcher.Add("almost", null);
        await Eventually.TrueAsync(() => publishes.Count == 1, because: "the first delta goes out at once");
        publishes.Finish(0);

        batcher.Add(" the end", null);
        batcher.Complete();

        await Eventually.TrueAsync(() => publishes.Count == 2, because: "nothing more can join once the stream ended; time stands still");
        publishes.Finish(1);
        await running.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(" the end", publishes.Batch(1).Text);
    }

    [Fact]
    public async Task RunAsync_Completed_WaitsForEveryPublishInFlight()
    {
        var batcher = new TokenBatcher(new TokenBatchingOptions(), new FakeTimeProvider());
        var publishes = new GatedPublishes();
        Task running = batcher.RunAsync(publishes.PublishAsync, CancellationToken.None);
        batcher.Add("last words", null);
        await Eventually.TrueAsync(() => publishes.Count == 1, because: "the delta goes out at once");

        batcher.Complete();
        Assert.False(running.IsCompleted, "a publish is still in flight");
        publishes.Finish(0);

        await running.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RunAsync_PublishFails_ThrowsItsError()
    {
        var batcher = new TokenBatcher(new TokenBatchingOptions(), TimeProvider.System);
        Task running = batcher.RunAsync((_, _) => Task.FromException(new InvalidOperationException("bus down")), CancellationToken.None);

        batcher.Add("lost", null);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => running.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("bus down", error.Message);
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

    /// <summary>Records every publish call in order; each one stays in flight until the test finishes it.</summary>
    private sealed class GatedPublishes
    {
        private readonly List<(TokenBatch Batch, TaskCompletionSource Done)> _calls = [];

        public int Count
        {
            get
            {
                lock (_calls)
                {
                    return _calls.Count;
                }
            }
        }

        public Task PublishAsync(TokenBatch batch, CancellationToken cancellationToken)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_calls)
            {
                _calls.Add((batch, done));
            }
            return done.Task;
        }

        public TokenBatch Batch(int call)
        {
            lock (_calls)
            {
                return _calls[call].Batch;
            }
        }

        public bool IsFinished(int call)
        {
            lock (_calls)
            {
                return _calls[call].Done.Task.IsCompleted;
            }
        }

        public void Finish(int call)
        {
            lock (_calls)
            {
                _calls[call].Done.SetResult();
            }
        }
    }
}
