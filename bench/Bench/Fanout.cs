using System.Diagnostics;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Scenario b: one writer-reviewer run watched by N subscribers, each on its own connection (<c>--transport signalr</c>,
/// the default, or <c>websocket</c>: /v1/ws), embedded.
/// The simulator's first token is delayed (ModelSimulator:TimeToFirstToken) so every subscriber is in place
/// before tokens flow; only events emitted after a subscriber subscribed count (no replayed history).
/// Latency: simulator emit stamp (x_emitted_at_us) to receipt, first token of each delta.
/// Deliveries/s: token events received by all subscribers / (last receipt - first emit): bounded by the model's token
/// rate times N while the gateway keeps up. What a delivery costs is the embedded host's CPU time (user + system, from
/// the OS) from the run's start to the last receipt, per delivery: an upper bound of the gateway's share (the same
/// process runs the worker, the dev server and the simulator for the one run), given as deliveries per core-second.
/// </summary>
internal static class Fanout
{
    public static async Task RunAsync(BenchSettings settings)
    {
        var sizes = settings.ReadInts("--subscribers", settings.Smoke ? [3] : [1, 100, 1_000, 5_000]);
        var transport = settings.ReadStrings("--transport", [FanoutSubscriber.SignalR])[0];
        var rows = new List<(int Subscribers, long Deliveries, double PerSecond, double P50, double P99, double PerCoreSecond, int Failed)>();
        foreach (var subscribers in sizes)
        {
            // Enough head start to connect and subscribe everyone on a loaded machine: ~3 ms per subscriber.
            var headStart = TimeSpan.FromSeconds(Math.Max(2, subscribers * 0.003));
            await using var deployment = await EmbeddedDeployment.StartAsync(new Dictionary<string, string>
            {
                ["ModelSimulator__TimeToFirstToken"] = headStart.ToString(),
            });
            using var client = await GatewayClient.CreateAsync(deployment.Gateway, "bench-fanout");
            var hubs = Enumerable.Range(0, subscribers).Select(_ => FanoutSubscriber.Create(transport, client, deployment.Gateway)).ToList();
            await Parallel.ForEachAsync(hubs, new ParallelOptions { MaxDegreeOfParallelism = 100 }, async (hub, cancel) => await hub.StartAsync(cancel));
            var cpuBefore = HostCpu(deployment.ProcessId);
            var runId = await client.StartRunAsync(Flows.WriterReviewer, $"Measure fan-out to {subscribers} subscribers.");
            var samples = new List<double>();
            var firstEmitUs = long.MaxValue;
            var lastReceiptUs = 0L;
            var failed = 0;
            await Task.WhenAll(hubs.Select(async hub =>
            {
                var subscribedAtUs = Report.NowUnixMicroseconds();
                var local = new List<double>();
                var localFirstEmit = long.MaxValue;
                var localLastReceipt = 0L;
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
                    await foreach (var (type, modelEmittedAtUs) in hub.ReadAsync(runId, timeout.Token))
                    {
                        var receivedAtUs = Report.NowUnixMicroseconds();
                        if (type == RunEventTypes.Token && modelEmittedAtUs is { } emittedAtUs && emittedAtUs >= subscribedAtUs)
                        {
                            local.Add((receivedAtUs - emittedAtUs) / 1000.0);
                            localFirstEmit = Math.Min(localFirstEmit, emittedAtUs);
                            localLastReceipt = receivedAtUs;
                        }
                    }
                }
                catch (FanoutSubscriber.EndedEarlyException)
                {
                    // e.g. [slow_consumer]: the gateway ended this subscription for falling behind; counted.
                    Interlocked.Increment(ref failed);
                }
                lock (samples)
                {
                    samples.AddRange(local);
                    firstEmitUs = Math.Min(firstEmitUs, localFirstEmit);
                    lastReceiptUs = Math.Max(lastReceiptUs, localLastReceipt);
                }
            }));
            var cpuSeconds = (HostCpu(deployment.ProcessId) - cpuBefore).TotalSeconds;
            await Parallel.ForEachAsync(hubs, async (hub, _) => await hub.DisposeAsync());
            samples.Sort();
            var seconds = (lastReceiptUs - firstEmitUs) / 1_000_000.0;
            rows.Add((subscribers, samples.Count, samples.Count / seconds, Report.Percentile(samples, 0.5), Report.Percentile(samples, 0.99), samples.Count / cpuSeconds, failed));
        }
        Console.WriteLine($"### fanout (one writer-reviewer run, N {transport} subscribers, embedded)");
        Report.Table(["transport", "subscribers", "token deliveries", "deliveries/s", "p50 ms", "p99 ms", "deliveries per host core-second", "subscriptions ended early"],
            rows.Select(r => new[] { transport, Report.N(r.Subscribers), Report.N(r.Deliveries), Report.F(r.PerSecond, 0), Report.F(r.P50), Report.F(r.P99), Report.F(r.PerCoreSecond, 0), Report.N(r.Failed) }));
        Report.BarChart(settings, "fanout.png", "One run, N subscribers: emit-to-receipt latency", "ms",
            [.. rows.Select(r => Report.N(r.Subscribers))], [("p50", [.. rows.Select(r => r.P50)]), ("p99", [.. rows.Select(r => r.P99)])]);
    }

    private static TimeSpan HostCpu(int processId)
    {
        using var process = Process.GetProcessById(processId);
        return process.TotalProcessorTime;
    }
}
