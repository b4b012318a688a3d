using System.Diagnostics;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.Bench;

/// <summary>
/// scale-out: the same token load through 1 gateway and through 2 (distributed, RabbitMQ). R runs are started for real
/// (so subscribing finds them) with a model that never answers during the measurement; their token deltas come from a
/// <see cref="SyntheticTokenLoad"/> publishing straight into the run-event path, so the gateways are what is loaded, not
/// the model, worker or Temporal. Each run is watched by its subscribers on one gateway, runs split evenly across the
/// gateways. The load steps up; per step: achieved token rate, deliveries, publish-to-receipt p50/p99, and per gateway
/// its CPU seconds (user + system, from the OS) per 1,000 delivered tokens. Reported last: per gateway count, the highest
/// total token rate whose p99 stayed under 50 ms, and the ratio of 2 gateways to 1 (issue 12's goal: at least 1.8).
/// </summary>
internal static class ScaleOut
{
    private const double P99GoalMs = 50;
    private static readonly int[] s_gatewayCounts = [1, 2];

    private sealed record Step(int Gateways, double TargetRate, double AchievedRate, long Deliveries, double P50, double P99, IReadOnlyList<double> CpuSecondsPer1000);

    public static async Task RunAsync(BenchSettings settings)
    {
        var runCount = settings.ReadInt("--runs", settings.Smoke ? 2 : 20);
        var perRun = settings.ReadInt("--subscribers-per-run", 1);
        var rates = settings.ReadInts("--rates", settings.Smoke ? [40] : [250, 500, 1000, 2000, 4000, 8000]);
        var seconds = settings.ReadInt("--seconds", settings.Smoke ? 1 : 10);
        // Long enough for tiered JIT to settle: a first step measured right after start-up counts compilation as load.
        var warmUp = TimeSpan.FromSeconds(settings.ReadInt("--warm-up-seconds", settings.Smoke ? 1 : 5));
        // Each gateway capped at this many cores (a cgroup quota), as on a node of its own: see CpuQuotas.
        var gatewayCpus = settings.ReadDouble("--gateway-cpus");
        using var quotas = new CpuQuotas(); // declared before the deployment: disposed after its processes exited
        var rabbit = new Uri(Environment.GetEnvironmentVariable("RABBITMQ_URI") ?? "amqp://guest:guest@127.0.0.1:5672/");
        await using var deployment = await DistributedDeployment.StartAsync(rabbit, new DistributedDeploymentOptions
        {
            // The real runs exist and stay running; their model never speaks while the synthetic load runs.
            SimulatorEnvironment = new Dictionary<string, string> { ["ModelSimulator__TimeToFirstToken"] = "01:00:00" },
        });
        await using var load = await SyntheticTokenLoad.StartAsync(new Dictionary<string, string?>
        {
            ["Bus:Transport"] = "RabbitMq",
            ["Bus:RabbitMqUri"] = rabbit.ToString(),
            ["RunEvents:Log:Store"] = "Redis",
            ["RunEvents:Log:Redis"] = deployment.Redis.Configuration,
            ["RunEvents:Live:Exchange"] = deployment.LiveExchange,
        });
        const string tenant = "bench-scale";
        using var starter = await GatewayClient.CreateAsync(deployment.Gateway, tenant);
        var runs = new List<(string TenantId, string RunId)>();
        for (var i = 0; i < runCount; i++)
        {
            runs.Add((tenant, await starter.StartRunAsync(Flows.WriterReviewer, $"scale-out run {i}")));
        }

        var steps = new List<Step>();
        foreach (var gateways in s_gatewayCounts)
        {
            while (deployment.Gateways.Count < gateways)
            {
                await deployment.StartGatewayAsync();
            }
            var urls = deployment.Gateways.Take(gateways).ToList();
            if (gatewayCpus is { } cores)
            {
                foreach (var url in urls.Skip(quotas.Count))
                {
                    quotas.Apply(deployment.ProcessIdOf(url), cores);
                }
            }
            await using var watchers = await Watchers.StartAsync(urls, tenant, runs, perRun);
            await load.RunAsync(runs, rates[^1], warmUp); // warm-up at the highest rate: JIT, connections, pools
            await watchers.WaitQuietAsync();
            foreach (var rate in rates)
            {
                watchers.Reset();
                var cpuBefore = urls.Select(u => Cpu(deployment.ProcessIdOf(u))).ToList();
                var clock = Stopwatch.StartNew();
                var published = await load.RunAsync(runs, rate, TimeSpan.FromSeconds(seconds));
                var achieved = published / clock.Elapsed.TotalSeconds;
                await watchers.WaitForAsync(published * perRun, TimeSpan.FromSeconds(30));
                var cpu = urls.Select((u, g) => (Cpu(deployment.ProcessIdOf(u)) - cpuBefore[g]).TotalSeconds / Math.Max(1, watchers.DeliveredAt(g)) * 1000).ToList();
                var samples = watchers.Samples();
                steps.Add(new Step(gateways, rate, achieved, samples.Count, Report.Percentile(samples, 0.5), Report.Percentile(samples, 0.99), cpu));
            }
        }

        Console.WriteLine($"### scale-out ({runCount} runs, {perRun} subscriber(s) per run, each run watched on one gateway; synthetic token load published into the run-event path; {seconds} s per step{(gatewayCpus is { } c ? $"; each gateway capped at {c} core(s)" : "")})");
        Report.Table(["gateways", "target tokens/s", "achieved tokens/s", "deliveries", "p50 ms", "p99 ms", "CPU s per 1,000 deliveries, per gateway"],
            steps.Select(s => new[]
            {
                Report.N(s.Gateways), Report.N((long)s.TargetRate), Report.F(s.AchievedRate, 0), Report.N(s.Deliveries), Report.F(s.P50), Report.F(s.P99),
                string.Join(" / ", s.CpuSecondsPer1000.Select(c => Report.F(c, 3))),
            }));
        double Capacity(int gateways) => steps.Where(s => s.Gateways == gateways && s.P99 < P99GoalMs).Select(s => s.AchievedRate).DefaultIfEmpty(double.NaN).Max();
        Report.Table(["gateways", $"highest token rate with p99 < {P99GoalMs} ms", "ratio to 1 gateway"],
            s_gatewayCounts.Select(g => new[] { Report.N(g), Report.F(Capacity(g), 0), Report.F(Capacity(g) / Capacity(1)) }), name: "scale-out capacity");
        Report.BarChart(settings, "scale-out.png", "Token load through 1 and 2 gateways: p99", "p99 ms",
            [.. rates.Select(r => $"{r}/s")], [.. s_gatewayCounts.Select(g => ($"{g} gateway(s)", steps.Where(s => s.Gateways == g).Select(s => s.P99).ToArray()))]);
    }

    private static TimeSpan Cpu(int processId)
    {
        using var process = Process.GetProcessById(processId);
        return process.TotalProcessorTime;
    }

    /// <summary>The subscribers: for run i, <c>perRun</c> SignalR connections to gateway i mod N, each counting the synthetic tokens it receives.</summary>
    private sealed class Watchers : IAsyncDisposable
    {
        private readonly List<(HubConnection Hub, int Gateway)> _hubs;
        private readonly List<GatewayClient> _clients;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _reading = [];
        private readonly long[] _delivered;
        private List<double> _samples = [];

        private Watchers(List<GatewayClient> clients, List<(HubConnection, int)> hubs)
        {
            _clients = clients;
            _hubs = hubs;
            _delivered = new long[clients.Count];
        }

        public static async Task<Watchers> StartAsync(IReadOnlyList<Uri> gateways, string tenant, List<(string TenantId, string RunId)> runs, int perRun)
        {
            var clients = new List<GatewayClient>();
            foreach (var gateway in gateways)
            {
                clients.Add(await GatewayClient.CreateAsync(gateway, tenant));
            }
            var hubs = new List<(HubConnection, int)>();
            var watchers = new Watchers(clients, hubs);
            for (var r = 0; r < runs.Count; r++)
            {
                for (var s = 0; s < perRun; s++)
                {
                    var gateway = r % clients.Count;
                    var hub = clients[gateway].NewHub();
                    await hub.StartAsync();
                    hubs.Add((hub, gateway));
                    watchers._reading.Add(watchers.ReadAsync(hub, gateway, runs[r].RunId));
                }
            }
            return watchers;
        }

        public void Reset()
        {
            lock (_delivered)
            {
                Array.Clear(_delivered);
                _samples = [];
            }
        }

        public long DeliveredAt(int gateway)
        {
            lock (_delivered)
            {
                return _delivered[gateway];
            }
        }

        public List<double> Samples()
        {
            lock (_delivered)
            {
                return [.. _samples.Order()];
            }
        }

        /// <summary>Waits until <paramref name="count"/> tokens arrived (or the timeout passed: late or lost tokens show in the figures).</summary>
        public async Task WaitForAsync(long count, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            while (_delivered.Sum() < count && deadline.Elapsed < timeout)
            {
                await Task.Delay(50);
            }
        }

        /// <summary>Until no token arrived for half a second: the warm-up's backlog is not measured.</summary>
        public async Task WaitQuietAsync()
        {
            long last;
            do
            {
                last = _delivered.Sum();
                await Task.Delay(TimeSpan.FromSeconds(2)); // a backlog from the warm-up must not spill into the first step
            }
            while (_delivered.Sum() != last);
        }

        private async Task ReadAsync(HubConnection hub, int gateway, string runId)
        {
            try
            {
                await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, null, _stop.Token))
                {
                    var receivedAtUs = Report.NowUnixMicroseconds();
                    if (runEvent.Type == RunEventTypes.Token && runEvent.ModelEmittedAtUs is { } publishedAtUs)
                    {
                        lock (_delivered)
                        {
                            _delivered[gateway]++;
                            _samples.Add((receivedAtUs - publishedAtUs) / 1000.0);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_reading).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var (hub, _) in _hubs)
            {
                await hub.DisposeAsync();
            }
            foreach (var client in _clients)
            {
                client.Dispose();
            }
            _stop.Dispose();
        }
    }
}
