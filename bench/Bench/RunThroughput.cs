using System.Diagnostics;
using System.Net.Http.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Scenario d: runs completed per second, from the REST start to the run.completed event seen by a subscriber,
/// with the simulator at full speed (ModelSimulator:Instant), in the embedded deployment. Beside the wall clock it
/// reports the embedded process's CPU time per run (user + system, read from the OS before and after the batch):
/// on a machine shared with other work runs/s follows the load, CPU per run does not, so A/B comparisons use it.
/// </summary>
internal static class RunThroughput
{
    public static async Task RunAsync(BenchSettings settings)
    {
        var runs = settings.ReadInt("--runs", settings.Smoke ? 5 : 300);
        var flows = settings.ReadStrings("--flows", [Flows.SupportTriage, Flows.WriterReviewer, Flows.ResearchTeam]);
        // Runs per flow before the measured batch: JIT, connections, first workflow tasks. One by default; more lets
        // tiered compilation settle so the batch measures steady state rather than the JIT.
        var warmUp = settings.ReadInt("--warm-up", 1);
        await using var deployment = await EmbeddedDeployment.StartAsync(new Dictionary<string, string> { ["ModelSimulator__Instant"] = "true" });
        using var client = await GatewayClient.CreateAsync(deployment.Gateway, "bench-throughput");
        // Subscriptions share a few connections, as a dashboard would; the gateway's default limits are unset.
        var hubs = new List<HubConnection>();
        for (var i = 0; i < 8; i++)
        {
            var hub = client.NewHub();
            await hub.StartAsync();
            hubs.Add(hub);
        }
        var rows = new List<(string Flow, double Steps, double Seconds, double P50, double P99, double CpuMsPerRun, WorkPerRun Work)>();
        using var server = Process.GetProcessById(deployment.ProcessId);
        foreach (var flow in flows)
        {
            await Task.WhenAll(Enumerable.Range(0, warmUp).Select(i => RunOneAsync(client, hubs[i % hubs.Count], flow, $"warm-up {i}")));
            var metricsBefore = await PrometheusScrape.ReadAsync(deployment.Gateway);
            server.Refresh();
            var cpuBefore = server.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var results = await Task.WhenAll(Enumerable.Range(0, runs).Select(i => RunOneAsync(client, hubs[i % hubs.Count], flow, $"bench {i}")));
            clock.Stop();
            server.Refresh();
            var cpuMsPerRun = (server.TotalProcessorTime - cpuBefore).TotalMilliseconds / runs;
            var work = WorkPerRun.Between(metricsBefore, await PrometheusScrape.ReadAsync(deployment.Gateway), runs);
            var durations = results.Select(r => r.Seconds * 1000).Order().ToList();
            rows.Add((flow, results.Average(r => r.ModelSteps), clock.Elapsed.TotalSeconds, Report.Percentile(durations, 0.5), Report.Percentile(durations, 0.99), cpuMsPerRun, work));
        }
        foreach (var hub in hubs)
        {
            await hub.DisposeAsync();
        }
        Console.WriteLine($"### run-throughput ({runs} runs started at once per flow after {warmUp} warm-up runs, embedded, simulator instant)");
        Report.Table(["flow", "model steps/run", "runs", "seconds", "runs/s", "run p50 ms", "run p99 ms", "server CPU ms/run"],
            rows.Select(r => new[]
            {
                r.Flow, Report.F(r.Steps, 1), Report.N(runs), Report.F(r.Seconds), Report.F(runs / r.Seconds, 1), Report.F(r.P50, 0), Report.F(r.P99, 0), Report.F(r.CpuMsPerRun, 1),
            }));
        // Counted by the server itself (its /metrics) over the same batch: unlike CPU time these hardly move with the
        // machine's load, so they show where an A/B's difference comes from.
        Console.WriteLine("### run-throughput: server work per run (from its /metrics over the batch)");
        Report.Table(["flow", "HTTP requests/run", "allocated KB/run", "thread-pool work items/run", "exceptions/run", "lock contentions/run", "methods JIT-compiled in batch", "JIT ms in batch", "GC pause ms in batch"],
            rows.Select(r => new[]
            {
                r.Flow, Report.F(r.Work.HttpRequests, 1), Report.F(r.Work.AllocatedKb, 0), Report.F(r.Work.WorkItems, 0), Report.F(r.Work.Exceptions, 2),
                Report.F(r.Work.LockContentions, 1), Report.N((long)r.Work.JitMethods), Report.F(r.Work.JitMs, 0), Report.F(r.Work.GcPauseMs, 0),
            }));
        Report.BarChart(settings, "run-throughput.png", $"Runs completed per second ({runs} at once, embedded)", "runs/s",
            [.. rows.Select(r => r.Flow)], [("runs/s", [.. rows.Select(r => runs / r.Seconds)])]);
    }

    /// <summary>Starts one run over REST and follows it until run.completed; counts its model steps.</summary>
    private static async Task<(double Seconds, int ModelSteps)> RunOneAsync(GatewayClient client, HubConnection hub, string flow, string input)
    {
        var clock = Stopwatch.StartNew();
        var runId = await client.StartRunAsync(flow, $"Measure run throughput: {input}.");
        var steps = new HashSet<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, null, timeout.Token))
        {
            // A model step streams tokens; a tool step does not.
            if (runEvent.Type == RunEventTypes.Token && runEvent.Step is { } step)
            {
                steps.Add(step);
            }
            if (runEvent.Type == RunEventTypes.InputRequested && runEvent.Data is { } request)
            {
                // support-triage asks a person to approve its reply: the bench approves at once, as a reviewer would.
                using var answer = await client.Http.PostAsJsonAsync($"/v1/runs/{runId}/input",
                    new { requestId = request.GetProperty("requestId").GetString(), answer = new { approved = true } });
                answer.EnsureSuccessStatusCode();
            }
            if (runEvent.Type == RunEventTypes.RunCompleted)
            {
                return (clock.Elapsed.TotalSeconds, steps.Count);
            }
            if (runEvent.Type is RunEventTypes.RunFailed or RunEventTypes.RunCanceled)
            {
                throw new InvalidOperationException($"run {runId} of {flow} failed: {runEvent.Text}");
            }
        }
        throw new InvalidOperationException($"run {runId} of {flow}: the stream ended without run.completed");
    }
}
