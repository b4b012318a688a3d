using System.Diagnostics;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Time from the model simulator emitting a token (its x_emitted_at_us stamp, carried on the token delta)
/// to a SignalR subscriber receiving it, for N concurrent writer-reviewer runs, embedded and distributed.
/// The first token of each delta is measured (later tokens of a batch wait less).
/// </summary>
internal static class TokenLatency
{
    public static async Task RunAsync(IReadOnlyList<int> concurrencies, bool includeDistributed)
    {
        var rows = new List<string>();
        await using (var embedded = await EmbeddedDeployment.StartAsync())
        {
            foreach (var runs in concurrencies)
            {
                rows.Add(await MeasureAsync("embedded (in-memory bus)", embedded, runs));
            }
        }
        if (includeDistributed)
        {
            var rabbit = new Uri(Environment.GetEnvironmentVariable("RABBITMQ_URI") ?? "amqp://guest:guest@127.0.0.1:5672/");
            await using var distributed = await DistributedDeployment.StartAsync(rabbit);
            foreach (var runs in concurrencies)
            {
                rows.Add(await MeasureAsync("distributed (4 processes, RabbitMQ)", distributed, runs));
            }
        }
        Console.WriteLine("| mode | concurrent runs | token deltas | p50 ms | p90 ms | p99 ms | max ms |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in rows)
        {
            Console.WriteLine(row);
        }
    }

    private static async Task<string> MeasureAsync(string mode, IRunningDeployment deployment, int runs)
    {
        // Warm-up run so JIT and connections are not measured.
        await RunOneAsync(deployment, "warm-up", []);
        var samples = new List<double>();
        await Task.WhenAll(Enumerable.Range(0, runs).Select(i => RunOneAsync(deployment, $"bench-{i}", samples)));
        samples.Sort();
        return $"| {mode} | {runs} | {samples.Count} | {Percentile(samples, 0.50):F2} | {Percentile(samples, 0.90):F2} | {Percentile(samples, 0.99):F2} | {samples[^1]:F2} |";
    }

    private static async Task RunOneAsync(IRunningDeployment deployment, string tenant, List<double> samples)
    {
        await using var client = await RunClient.ConnectAsync(deployment.Gateway, tenant);
        var runId = await client.StartRunAsync(Flows.WriterReviewer, $"Measure the token path for {tenant}.");
        await foreach (var runEvent in client.StreamEventsAsync(runId, TimeSpan.FromMinutes(3)))
        {
            var receivedAtUs = (Stopwatch.GetTimestamp() - s_clockOrigin) * 1_000_000 / Stopwatch.Frequency + s_unixOriginUs;
            if (runEvent.Type == RunEventTypes.Token && runEvent.ModelEmittedAtUs is { } emittedAtUs)
            {
                lock (samples)
                {
                    samples.Add((receivedAtUs - emittedAtUs) / 1000.0);
                }
            }
        }
    }

    // A monotonic clock anchored to Unix time once, so samples are not disturbed by wall-clock adjustments.
    private static readonly long s_clockOrigin = Stopwatch.GetTimestamp();
    private static readonly long s_unixOriginUs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];
}
