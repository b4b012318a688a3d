using System.Diagnostics;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Issue 7's noisy neighbour, in the embedded deployment (one process) with the simulator at its default speed:
/// tenant B starts writer-reviewer runs at a steady pace, first alone, then while tenant A floods with ten times as
/// many runs started at once. B's time to first token (REST start to the first token delivered to its SignalR
/// subscriber) is compared between the two phases; A's throughput is reported against its plan. The plans (Tenancy
/// configuration, passed to the process): both tenants priority 3, fairness weight 1, so while both have tasks queued
/// in Temporal, A gets at most half of the dispatches and B's next task never waits behind A's backlog.
/// </summary>
internal static class NoisyNeighbour
{
    private const string TenantA = "bench-noisy-a";
    private const string TenantB = "bench-steady-b";

    public static async Task RunAsync(BenchSettings settings)
    {
        var bRuns = settings.ReadInt("--b-runs", settings.Smoke ? 2 : 20);
        var flood = settings.ReadInt("--flood-factor", 10);
        var paceMs = settings.ReadInt("--b-pace-ms", 250);
        var environment = new Dictionary<string, string>();
        foreach (var tenant in new[] { TenantA, TenantB })
        {
            environment[$"Tenancy__Tenants__{tenant}__Priority"] = "3";
            environment[$"Tenancy__Tenants__{tenant}__FairnessWeight"] = "1";
        }
        await using var deployment = await EmbeddedDeployment.StartAsync(environment);
        using var a = await GatewayClient.CreateAsync(deployment.Gateway, TenantA);
        using var b = await GatewayClient.CreateAsync(deployment.Gateway, TenantB);
        var aHubs = await StartHubsAsync(a, 8);
        var bHubs = await StartHubsAsync(b, 2);
        try
        {
            await RunToEndAsync(b, bHubs[0], "warm-up"); // JIT, connections, first workflow task

            var alone = await PacedAsync(b, bHubs, bRuns, paceMs, "alone");

            var floodClock = Stopwatch.StartNew();
            var aRuns = Task.WhenAll(Enumerable.Range(0, bRuns * flood).Select(i => RunToEndAsync(a, aHubs[i % aHubs.Count], $"flood {i}")));
            var contended = await PacedAsync(b, bHubs, bRuns, paceMs, "with flood");
            var aResults = await aRuns;
            floodClock.Stop();

            alone.Sort();
            contended.Sort();
            var aTtft = aResults.Select(r => r.TtftMs).Order().ToList();
            double Ratio(double p) => Report.Percentile(contended, p) / Report.Percentile(alone, p);
            Console.WriteLine($"### noisy-neighbour (embedded, writer-reviewer, simulator default speed; B: {bRuns} runs, one every {paceMs} ms; A: {bRuns * flood} runs at once; both plans priority 3, weight 1)");
            Report.Table(["tenant / phase", "runs", "TTFT p50 ms", "TTFT p99 ms", "p50 ratio", "p99 ratio (goal <= 1.2)"],
            [
                ["B alone", Report.N(alone.Count), Report.F(Report.Percentile(alone, 0.5), 0), Report.F(Report.Percentile(alone, 0.99), 0), "1.00", "1.00"],
                ["B while A floods", Report.N(contended.Count), Report.F(Report.Percentile(contended, 0.5), 0), Report.F(Report.Percentile(contended, 0.99), 0), Report.F(Ratio(0.5)), Report.F(Ratio(0.99))],
                ["A (flood)", Report.N(aTtft.Count), Report.F(Report.Percentile(aTtft, 0.5), 0), Report.F(Report.Percentile(aTtft, 0.99), 0), "", ""],
            ]);
            Console.WriteLine($"A: {aResults.Length} runs completed in {Report.F(floodClock.Elapsed.TotalSeconds)} s = {Report.F(aResults.Length / floodClock.Elapsed.TotalSeconds, 1)} runs/s");
            Console.WriteLine();
            Report.BarChart(settings, "noisy-neighbour.png", "Tenant B time to first token, alone and while A floods", "ms",
                ["p50", "p99"],
                [("B alone", [Report.Percentile(alone, 0.5), Report.Percentile(alone, 0.99)]),
                 ("B while A floods", [Report.Percentile(contended, 0.5), Report.Percentile(contended, 0.99)])]);
        }
        finally
        {
            foreach (var hub in aHubs.Concat(bHubs))
            {
                await hub.DisposeAsync();
            }
        }
    }

    private static async Task<List<HubConnection>> StartHubsAsync(GatewayClient client, int count)
    {
        var hubs = new List<HubConnection>();
        for (var i = 0; i < count; i++)
        {
            var hub = client.NewHub();
            await hub.StartAsync();
            hubs.Add(hub);
        }
        return hubs;
    }

    /// <summary>Starts <paramref name="runs"/> runs one every <paramref name="paceMs"/>; each one's TTFT in ms.</summary>
    private static async Task<List<double>> PacedAsync(GatewayClient client, List<HubConnection> hubs, int runs, int paceMs, string label)
    {
        var started = new List<Task<(double TtftMs, double TotalMs)>>();
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(paceMs));
        for (var i = 0; i < runs; i++)
        {
            started.Add(RunToEndAsync(client, hubs[i % hubs.Count], $"{label} {i}"));
            await pace.WaitForNextTickAsync();
        }
        return [.. (await Task.WhenAll(started)).Select(r => r.TtftMs)];
    }

    /// <summary>POST /v1/runs, subscribe, follow to run.completed: ms to the first token and to the end.</summary>
    private static async Task<(double TtftMs, double TotalMs)> RunToEndAsync(GatewayClient client, HubConnection hub, string input)
    {
        var clock = Stopwatch.StartNew();
        var runId = await client.StartRunAsync(Flows.WriterReviewer, $"Noisy neighbour: {input}.");
        double? ttft = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, null, timeout.Token))
        {
            if (runEvent.Type == RunEventTypes.Token)
            {
                ttft ??= clock.Elapsed.TotalMilliseconds;
            }
            if (runEvent.Type == RunEventTypes.RunCompleted && ttft is { } first)
            {
                return (first, clock.Elapsed.TotalMilliseconds);
            }
            if (runEvent.Type is RunEventTypes.RunFailed or RunEventTypes.RunCanceled or RunEventTypes.RunCompleted)
            {
                throw new InvalidOperationException($"run {runId} ended ({runEvent.Type}) without a token: {runEvent.Text}");
            }
        }
        throw new InvalidOperationException($"run {runId}: the stream ended without run.completed");
    }
}
