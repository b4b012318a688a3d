using System.Collections.Concurrent;
using System.Diagnostics;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Issue 7's noisy neighbour, in the embedded deployment (one process) with the simulator at its default speed:
/// tenant B starts writer-reviewer runs at a steady pace, first alone, then while tenant A floods with ten times as
/// many runs started at once; repeated, because the machine is shared. B's time to first token (REST start to the
/// first token delivered to its SignalR subscriber) is compared between the two phases of each pair.
/// Both tenants have real plans (<see cref="PlanA"/>, <see cref="PlanB"/>) in the host's configuration, so the
/// gateway refuses A's starts beyond its plan with typed 429s and the worker makes A's extra model calls wait. A's
/// client behaves like a real one: a refused start is retried after Retry-After (plus jitter, bounded attempts)
/// until B's phase ends, so the flood persists. <c>--no-plan</c> gives A no limits (the comparison row).
/// </summary>
internal static class NoisyNeighbour
{
    private const string TenantA = "bench-noisy-a";
    private const string TenantB = "bench-steady-b";

    /// <summary>A refused start is tried again at most this many times (a real client gives up eventually).</summary>
    private const int MaxStartAttempts = 30;

    /// <summary>
    /// A's plan: a small tenant. At most 4 runs at once, 60 starts a minute (burst 4), 3 model calls at once.
    /// Same priority and weight as B: the point is that A is held to its plan, not that B is preferred.
    /// </summary>
    private static readonly Dictionary<string, string> PlanA = new()
    {
        ["MaxConcurrentRuns"] = "4",
        ["RunStartsPerMinute"] = "60",
        ["RunStartBurst"] = "4",
        ["MaxConcurrentModelCalls"] = "3",
        ["FairnessWeight"] = "1",
        ["Priority"] = "3",
    };

    /// <summary>B's plan, sized for its load (20 runs in 5 s, about 10 in flight) with room to spare.</summary>
    private static readonly Dictionary<string, string> PlanB = new()
    {
        ["MaxConcurrentRuns"] = "40",
        ["RunStartsPerMinute"] = "600",
        ["RunStartBurst"] = "40",
        ["MaxConcurrentModelCalls"] = "40",
        ["FairnessWeight"] = "1",
        ["Priority"] = "3",
    };

    public static async Task RunAsync(BenchSettings settings)
    {
        var bRuns = settings.ReadInt("--b-runs", settings.Smoke ? 2 : 20);
        var flood = settings.ReadInt("--flood-factor", 10);
        var paceMs = settings.ReadInt("--b-pace-ms", 250);
        var repeats = settings.ReadInt("--repeats", settings.Smoke ? 1 : 3);
        var withPlan = !settings.Has("--no-plan");
        var environment = new Dictionary<string, string> { ["Quotas__RetryAfterSeconds"] = "2" };
        foreach (var (tenant, plan) in new[] { (TenantA, PlanA), (TenantB, PlanB) })
        {
            foreach (var (key, value) in plan)
            {
                if (withPlan || key is "FairnessWeight" or "Priority")
                {
                    environment[$"Tenancy__Tenants__{tenant}__{key}"] = value;
                }
            }
        }
        await using var deployment = await EmbeddedDeployment.StartAsync(environment);
        using var a = await GatewayClient.CreateAsync(deployment.Gateway, TenantA);
        using var b = await GatewayClient.CreateAsync(deployment.Gateway, TenantB);
        var aHubs = await StartHubsAsync(a, 8);
        var bHubs = await StartHubsAsync(b, 2);
        try
        {
            await RunToEndAsync(b, bHubs[0], "warm-up"); // JIT, connections, first workflow task

            var pairs = new List<(List<double> Alone, List<double> Contended, FloodResult Flood)>();
            for (var repeat = 1; repeat <= repeats; repeat++)
            {
                var alone = await PacedAsync(b, bHubs, bRuns, paceMs, $"alone {repeat}");
                using var stop = new CancellationTokenSource();
                var floodRun = FloodAsync(a, aHubs, bRuns * flood, $"flood {repeat}", stop.Token);
                var contended = await PacedAsync(b, bHubs, bRuns, paceMs, $"with flood {repeat}");
                await stop.CancelAsync(); // A's pending retries stop; its accepted runs are followed to the end
                pairs.Add((alone, contended, await floodRun));
            }

            var plans = withPlan
                ? $"A's plan {Describe(PlanA)}; B's plan {Describe(PlanB)}"
                : "no plan: both tenants priority 3, weight 1, no limits";
            Console.WriteLine($"### noisy-neighbour (embedded, writer-reviewer, simulator default speed; B: {bRuns} runs, one every {paceMs} ms; A: {bRuns * flood} runs at once, refused starts retried after Retry-After until B's phase ends; {plans})");
            Report.Table(["pair", "B alone p50 ms", "B alone p99 ms", "B with flood p50 ms", "B with flood p99 ms", "p50 ratio", "p99 ratio (goal <= 1.2)"],
                pairs.Select((pair, i) => new[]
                {
                    Report.N(i + 1),
                    Report.F(Report.Percentile(pair.Alone, 0.5), 0), Report.F(Report.Percentile(pair.Alone, 0.99), 0),
                    Report.F(Report.Percentile(pair.Contended, 0.5), 0), Report.F(Report.Percentile(pair.Contended, 0.99), 0),
                    Report.F(Report.Percentile(pair.Contended, 0.5) / Report.Percentile(pair.Alone, 0.5)),
                    Report.F(Report.Percentile(pair.Contended, 0.99) / Report.Percentile(pair.Alone, 0.99)),
                }));
            Report.Table(["pair", "A offered", "A started", "A refused (429)", "A abandoned at B's end", "A peak concurrent", "A step.waiting", "A TTFT p50 ms", "A TTFT p99 ms", "A runs/s"],
                pairs.Select((pair, i) => new[]
                {
                    Report.N(i + 1), Report.N(pair.Flood.Offered), Report.N(pair.Flood.Ttfts.Count),
                    pair.Flood.Refused.Count == 0 ? "0" : string.Join(", ", pair.Flood.Refused.OrderBy(r => r.Key).Select(r => $"{Report.N(r.Value)} {r.Key}")),
                    Report.N(pair.Flood.Abandoned), Report.N(pair.Flood.PeakConcurrent), Report.N(pair.Flood.Waiting),
                    Report.F(Report.Percentile(pair.Flood.Ttfts, 0.5), 0), Report.F(Report.Percentile(pair.Flood.Ttfts, 0.99), 0),
                    Report.F(pair.Flood.Ttfts.Count / pair.Flood.Elapsed.TotalSeconds, 1),
                }), name: "noisy-neighbour tenant A");
            Console.WriteLine("A peak concurrent = A's runs between an accepted start and its terminal event reaching the client (an upper bound of what ran).");
            Console.WriteLine();
            List<double> Pooled(Func<(List<double> Alone, List<double> Contended, FloodResult Flood), List<double>> phase) =>
                [.. pairs.SelectMany(phase).Order()];
            var pooledAlone = Pooled(pair => pair.Alone);
            var pooledContended = Pooled(pair => pair.Contended);
            Report.BarChart(settings, withPlan ? "noisy-neighbour.png" : "noisy-neighbour-no-plan.png",
                $"Tenant B time to first token, alone and while A floods ({(withPlan ? "A held to its plan" : "no plan")}; all pairs pooled)", "ms",
                ["p50", "p99"],
                [("B alone", [Report.Percentile(pooledAlone, 0.5), Report.Percentile(pooledAlone, 0.99)]),
                 ("B while A floods", [Report.Percentile(pooledContended, 0.5), Report.Percentile(pooledContended, 0.99)])]);
        }
        finally
        {
            foreach (var hub in aHubs.Concat(bHubs))
            {
                await hub.DisposeAsync();
            }
        }
    }

    private static string Describe(Dictionary<string, string> plan) =>
        string.Join(" ", plan.Select(entry => $"{entry.Key}={entry.Value}"));

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

    /// <summary>Starts <paramref name="runs"/> runs one every <paramref name="paceMs"/>; each one's TTFT in ms, sorted.</summary>
    private static async Task<List<double>> PacedAsync(GatewayClient client, List<HubConnection> hubs, int runs, int paceMs, string label)
    {
        var started = new List<Task<double>>();
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(paceMs));
        for (var i = 0; i < runs; i++)
        {
            started.Add(RunToEndAsync(client, hubs[i % hubs.Count], $"{label} {i}"));
            await pace.WaitForNextTickAsync();
        }
        return [.. (await Task.WhenAll(started)).Order()];
    }

    /// <summary>What A's flood did: starts accepted and refused, its peak of runs in flight, its model-call waits.</summary>
    private sealed record FloodResult(int Offered, List<double> Ttfts, Dictionary<string, int> Refused, int Abandoned, int PeakConcurrent, int Waiting, TimeSpan Elapsed);

    /// <summary>
    /// A's client: <paramref name="runs"/> runs wanted at once. Each is started; a refused start (429/503) waits the
    /// Retry-After plus up to 1 s of jitter and tries again, at most <see cref="MaxStartAttempts"/> times, until
    /// <paramref name="stop"/>. An accepted run is followed to its end (it is never abandoned mid-way).
    /// </summary>
    private static async Task<FloodResult> FloodAsync(GatewayClient client, List<HubConnection> hubs, int runs, string label, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var ttfts = new ConcurrentBag<double>();
        var refused = new ConcurrentDictionary<string, int>();
        int inFlight = 0, peak = 0, abandoned = 0, waiting = 0;

        async Task OneAsync(int i)
        {
            for (var attempt = 1; attempt <= MaxStartAttempts; attempt++)
            {
                if (stop.IsCancellationRequested)
                {
                    break;
                }
                // Not cancelled mid-request: a start the gateway accepted must be followed, or it would run on unseen.
                var attemptClock = Stopwatch.StartNew();
                var start = await client.TryStartRunAsync(Flows.WriterReviewer, $"Noisy neighbour: {label} {i}.", CancellationToken.None);
                if (start.RunId is { } runId)
                {
                    var now = Interlocked.Increment(ref inFlight);
                    InterlockedMax(ref peak, now);
                    try
                    {
                        ttfts.Add(await FollowAsync(hubs[i % hubs.Count], runId, attemptClock, type =>
                        {
                            if (type == RunEventTypes.StepWaiting)
                            {
                                Interlocked.Increment(ref waiting);
                            }
                        }));
                    }
                    finally
                    {
                        Interlocked.Decrement(ref inFlight);
                    }
                    return;
                }
                refused.AddOrUpdate(start.RefusalCode!, 1, (_, count) => count + 1);
                try
                {
                    await Task.Delay(start.RetryAfter + TimeSpan.FromMilliseconds(Random.Shared.Next(1000)), stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            Interlocked.Increment(ref abandoned);
        }

        await Task.WhenAll(Enumerable.Range(0, runs).Select(OneAsync));
        return new FloodResult(runs, [.. ttfts.Order()], new Dictionary<string, int>(refused), abandoned, peak, waiting, clock.Elapsed);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }

    /// <summary>POST /v1/runs, subscribe, follow to run.completed: ms to the first token.</summary>
    private static async Task<double> RunToEndAsync(GatewayClient client, HubConnection hub, string input)
    {
        var clock = Stopwatch.StartNew();
        var runId = await client.StartRunAsync(Flows.WriterReviewer, $"Noisy neighbour: {input}.");
        return await FollowAsync(hub, runId, clock, static _ => { });
    }

    /// <summary>Subscribes to <paramref name="runId"/> and follows it to run.completed: ms on <paramref name="clock"/> to the first token.</summary>
    private static async Task<double> FollowAsync(HubConnection hub, string runId, Stopwatch clock, Action<string> onEvent)
    {
        double? ttft = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, null, timeout.Token))
        {
            onEvent(runEvent.Type);
            if (runEvent.Type == RunEventTypes.Token)
            {
                ttft ??= clock.Elapsed.TotalMilliseconds;
            }
            if (runEvent.Type == RunEventTypes.RunCompleted && ttft is { } first)
            {
                return first;
            }
            if (runEvent.Type is RunEventTypes.RunFailed or RunEventTypes.RunCanceled or RunEventTypes.RunCompleted)
            {
                throw new InvalidOperationException($"run {runId} ended ({runEvent.Type}) without a token: {runEvent.Text}");
            }
        }
        throw new InvalidOperationException($"run {runId}: the stream ended without run.completed");
    }
}
