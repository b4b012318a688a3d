using AgentOrchestrator.RunStreaming.Log;
using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AgentOrchestrator.RunStreaming.Tests.Log;

/// <summary>The conformance tests against a real redis-server of the test's own.</summary>
public sealed class RedisRunEventLogTests : RunEventLogConformanceTests, IClassFixture<RedisRunEventLogTests.RedisFixture>
{
    private readonly RedisFixture _redis;

    public RedisRunEventLogTests(RedisFixture redis)
    {
        _redis = redis;
        Log = redis.Log;
    }

    protected override IRunEventLog Log { get; }

    /// <summary>What Redis does when the TTL (tested below) runs out: both keys of the run go.</summary>
    protected override async Task ExpireAsync(string tenantId, string runId)
    {
        var database = _redis.Connection.Database;
        var server = _redis.Connection.Database.Multiplexer.GetServers()[0];
        await foreach (var key in server.KeysAsync(pattern: "ao:run-log:{" + Contracts.RunWorkflowIds.For(tenantId, runId) + "}*"))
        {
            await database.KeyDeleteAsync(key);
        }
    }

    [Fact]
    public async Task Append_SetsTheRetentionAsTtlOnBothKeys_AndEachAppendRenewsIt()
    {
        var run = NewRun();
        var token = await Log.AppendAsync(run.Message(run.Token("w", 1, 0, "all", 0)), null, default);
        await Log.AppendAsync(run.Message(run.Completed("w", 1, 1, "all")),
            new StepCompaction(token.Epoch, "w", 1, "w", "all", [new CompactedToken(token.Seq, 0, 0)], DateTimeOffset.UnixEpoch), default);
        var key = (RedisKey)("ao:run-log:{" + Contracts.RunWorkflowIds.For(run.Tenant, run.RunId) + "}");
        await _redis.Connection.Database.KeyExpireAsync(key, TimeSpan.FromSeconds(5));
        await _redis.Connection.Database.KeyExpireAsync(key.Append(":steps"), TimeSpan.FromSeconds(5));

        await Log.AppendAsync(run.Message(run.RunCompleted()), null, default);

        var ttl = await _redis.Connection.Database.KeyTimeToLiveAsync(key);
        var stepsTtl = await _redis.Connection.Database.KeyTimeToLiveAsync(key.Append(":steps"));
        Assert.InRange(ttl ?? TimeSpan.Zero, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));
        Assert.InRange(stepsTtl ?? TimeSpan.Zero, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));
    }

    [Theory]
    [InlineData(true, 4)]
    [InlineData(false, 7)]
    public async Task Compaction_KeepsOnlyTheRecordOfAFinishedAttempt_UnlessTurnedOff(bool compact, int fields)
    {
        var options = Options.Create(new RunEventLogOptions { Store = RunEventLogStore.Redis, CompactFinishedAttempts = compact });
        var log = new RedisRunEventLog(_redis.Connection, options);
        var run = NewRun();
        await log.AppendAsync(run.Message(run.Started("w", 1)), null, default);
        var tokens = new List<CompactedToken>();
        var epoch = string.Empty;
        for (var i = 0; i < 3; i++)
        {
            var position = await log.AppendAsync(run.Message(run.Token("w", 1, i, "ab", i * 2)), null, default);
            tokens.Add(new CompactedToken(position.Seq, i, i * 2));
            epoch = position.Epoch;
        }

        await log.AppendAsync(run.Message(run.Completed("w", 1, 3, "ababab")), new StepCompaction(epoch, "w", 1, "w", "ababab", tokens, DateTimeOffset.UnixEpoch), default);

        // epoch, head, step.started, step.completed (+ the three deltas when not compacted)
        var key = (RedisKey)("ao:run-log:{" + Contracts.RunWorkflowIds.For(run.Tenant, run.RunId) + "}");
        Assert.Equal(fields, await _redis.Connection.Database.HashLengthAsync(key));
        var slice = await log.ReadAsync(run.Tenant, run.RunId, 1, default);
        Assert.Equal("ababab", string.Concat(slice.Entries.Select(e => e.Message.Events[0]).Where(e => e.Type == Contracts.RunEventTypes.Token).Select(e => e.Text)));
    }

    [Fact]
    public async Task Read_MoreThanOneBatch_ReturnsEveryEntryInOrder()
    {
        var run = NewRun();
        var count = RedisRunEventLog.ReadBatch + 300;
        var appends = Enumerable.Range(0, count).Select(i => Log.AppendAsync(run.Message(run.Token("w", 1, i, "t" + i)), null, default).AsTask());
        await Task.WhenAll(appends);

        var slice = await Log.ReadAsync(run.Tenant, run.RunId, 1, default);

        Assert.Equal(count, slice.Entries.Count);
        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), slice.Entries.Select(e => e.Seq));
    }

    public sealed class RedisFixture : IAsyncLifetime
    {
        private RedisServer? _server;

        internal RunEventLogRedis Connection { get; private set; } = null!;

        internal IRunEventLog Log { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            _server = await RedisServer.StartAsync();
            var options = Options.Create(new RunEventLogOptions { Store = RunEventLogStore.Redis, Redis = _server.Configuration + ",allowAdmin=true" });
            Connection = new RunEventLogRedis(options);
            await Connection.StartAsync(default);
            Log = new RedisRunEventLog(Connection, options);
        }

        public async Task DisposeAsync()
        {
            if (Connection is not null)
            {
                await Connection.DisposeAsync();
            }
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }
}
