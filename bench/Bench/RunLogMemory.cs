using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using StackExchange.Redis;

namespace AgentOrchestrator.Bench;

/// <summary>
/// run-log-memory: what a finished run costs the replay tier. N writer-reviewer runs (distributed: RabbitMQ, Redis,
/// one gateway; the simulator at its default speed, so deltas are as a model streams them; C at a time) run to their
/// end while a subscriber watches each on the gateway (after C runs that warm the gateway up); then the bytes the runs'
/// log keys take in Redis (MEMORY USAGE of every key, exact) and the gateway's live heap held by the N watched, finished
/// runs (a full GC forced before and after them: <see cref="GcHeapProbe"/>), both per run, with the log compacting finished step attempts
/// (the default) and without (RunEvents:Log:CompactFinishedAttempts=false: every delta kept as its own message).
/// </summary>
internal static class RunLogMemory
{
    public static async Task RunAsync(BenchSettings settings)
    {
        var runs = settings.ReadInt("--runs", settings.Smoke ? 2 : 40);
        var concurrency = settings.ReadInt("--concurrency", settings.Smoke ? 2 : 10);
        var rabbit = new Uri(Environment.GetEnvironmentVariable("RABBITMQ_URI") ?? "amqp://guest:guest@127.0.0.1:5672/");
        var rows = new List<string[]>();
        foreach (var compact in new[] { true, false })
        {
            await using var deployment = await DistributedDeployment.StartAsync(rabbit, new DistributedDeploymentOptions
            {
                Environment = new Dictionary<string, string>
                {
                    ["RunEvents__Log__CompactFinishedAttempts"] = compact ? "true" : "false",
                    // The watched runs stay on the gateway while it is measured.
                    ["Gateway__Events__UnwatchedRetention"] = "01:00:00",
                },
            });
            using var client = await GatewayClient.CreateAsync(deployment.Gateway, "bench-memory");
            var gatewayPid = deployment.ProcessIdOf(deployment.Gateway);
            await using var watcher = await RunClient.ConnectAsync(deployment.Gateway, "bench-memory");
            // First runs warm the gateway up (JIT, pools, caches, first metric series): not what a run costs.
            await RunAllAsync(client, watcher, concurrency, concurrency);
            var heapBefore = await GcHeapProbe.LiveBytesAfterFullGcAsync(gatewayPid);
            var deltas = await RunAllAsync(client, watcher, runs, concurrency);
            var heapAfter = await GcHeapProbe.LiveBytesAfterFullGcAsync(gatewayPid);
            if (settings.ReadInt("--hold", 0) is > 0 and var hold)
            {
                // Time to take a heap dump: dotnet-gcdump collect -p <pid>.
                Console.WriteLine($"holding {hold} s; gateway pid {gatewayPid}");
                await Task.Delay(TimeSpan.FromSeconds(hold));
            }
            var (redisBytes, keys) = await LogBytesAsync(deployment.Redis.Configuration);
            rows.Add(
            [
                compact ? "compacted (default)" : "every delta kept",
                Report.N(runs),
                Report.F((double)deltas / runs, 0),
                Report.N(redisBytes / Math.Max(1, keys)),
                Report.N((heapAfter - heapBefore) / runs),
            ]);
        }
        Console.WriteLine($"### run-log-memory ({runs} finished writer-reviewer runs, distributed, one gateway watching each)");
        Report.Table(["run-event log", "runs", "token deltas per run", "Redis bytes per run (MEMORY USAGE)", "gateway live heap per watched finished run (bytes)"], rows);
    }

    /// <summary>Runs <paramref name="runs"/> writer-reviewer runs, <paramref name="concurrency"/> at a time, each watched to its end; returns their token deltas.</summary>
    private static async Task<long> RunAllAsync(GatewayClient client, RunClient watcher, int runs, int concurrency)
    {
        var deltas = 0L;
        using var slots = new SemaphoreSlim(concurrency);
        await Task.WhenAll(Enumerable.Range(0, runs).Select(async i =>
        {
            await slots.WaitAsync();
            try
            {
                var runId = await client.StartRunAsync(Flows.WriterReviewer, $"Measure what run {i} costs the replay tier.");
                var events = await watcher.ReadAllEventsAsync(runId, TimeSpan.FromMinutes(2));
                Interlocked.Add(ref deltas, events.Count(e => e.Type == RunEventTypes.Token));
            }
            finally
            {
                slots.Release();
            }
        }));
        return deltas;
    }

    /// <summary>The exact memory of the run-event logs (MEMORY USAGE ... SAMPLES 0 of every key) and how many runs have one.</summary>
    private static async Task<(long Bytes, int Runs)> LogBytesAsync(string configuration)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(configuration);
        var server = redis.GetServers()[0];
        var database = redis.GetDatabase();
        long total = 0;
        var runs = 0;
        await foreach (var key in server.KeysAsync(pattern: "ao:run-log:*"))
        {
            total += (long)await database.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", "0");
            runs += key.ToString().EndsWith(":steps", StringComparison.Ordinal) ? 0 : 1;
        }
        return (total, runs);
    }
}
