using AgentOrchestrator.Client;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.ChaosSupport;

/// <summary>
/// A chaos session: <see cref="ChaosSettings.ConcurrentRuns"/> runs of the shipped flows kept in flight on a
/// <see cref="ChaosDeployment"/>, each watched by a shipped .NET client (SignalR through one entrance, the WebSocket
/// transport through the other, alternately) and by the page's client in Chromium (both transports), while faults are
/// injected one at a time in a random order at random moments. At the end every run's durable outcome is compared
/// with what every client showed.
/// </summary>
public static class ChaosSession
{
    private const string Tenant = "tenant-chaos";
    private static readonly string[] s_flows = [Flows.WriterReviewer, Flows.SupportTriage, Flows.ResearchTeam];

    public static async Task<ChaosReport> RunAsync(ChaosSettings settings, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        var random = new Random(settings.Seed);
        log($"chaos session: seed {settings.Seed}, {settings.ConcurrentRuns} runs in flight, {settings.FaultsPerKind} x {string.Join(", ", settings.Faults)}");
        await using var chaos = await ChaosDeployment.StartAsync(settings);
        try
        {
            return await RunAsync(chaos, settings, random, log);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or InvalidOperationException)
        {
            throw new TimeoutException($"{e.Message}\nprocess output:\n{chaos.Output}", e);
        }
    }

    private static async Task<ChaosReport> RunAsync(ChaosDeployment chaos, ChaosSettings settings, Random random, Action<string> log)
    {
        var entrances = chaos.Entrances;
        var token = await DevTokens.IssueAsync(entrances[0], Tenant, "chaos");
        await using var starter = Client(entrances[1], token, StreamTransport.SignalR);
        await using var hubClient = Client(entrances[0], token, StreamTransport.SignalR);
        await using var socketClient = Client(entrances[1], token, StreamTransport.WebSocket);
        var browsers = new List<BrowserWatcher>();
        try
        {
            if (settings.Browser)
            {
                browsers.Add(await BrowserWatcher.StartAsync(entrances[0], "websocket", token));
                browsers.Add(await BrowserWatcher.StartAsync(entrances[1], "signalr", token));
            }
            var runs = new List<RunWatch>();
            var watching = new List<Task>();
            using var stopStarting = new CancellationTokenSource();
            using var drain = new CancellationTokenSource();
            var started = 0;

            async Task KeepRunningAsync()
            {
                while (!stopStarting.IsCancellationRequested)
                {
                    var number = Interlocked.Increment(ref started);
                    var flow = s_flows[number % s_flows.Length];
                    var runId = await StartAsync(starter, flow, number, log, drain.Token);
                    var (client, name) = number % 2 == 0 ? (hubClient, $"signalr via {entrances[0]}") : (socketClient, $"websocket via {entrances[1]}");
                    var watch = new RunWatch(runId, flow, name);
                    lock (runs)
                    {
                        runs.Add(watch);
                    }
                    foreach (var browser in browsers)
                    {
                        await browser.WatchAsync(runId);
                    }
                    await watch.WatchAsync(client, starter, drain.Token);
                }
            }

            var keepers = Enumerable.Range(0, settings.ConcurrentRuns).Select(_ => Task.Run(KeepRunningAsync)).ToList();
            // Every run streaming before the first fault.
            await Eventually.TrueAsync(() => { lock (runs) { return runs.Count >= settings.ConcurrentRuns && runs.All(r => r.Events.Count > 1); } },
                TimeSpan.FromMinutes(3), "every run in flight streams");

            var schedule = settings.Faults.SelectMany(kind => Enumerable.Repeat(kind, settings.FaultsPerKind)).OrderBy(_ => random.Next()).ToList();
            var faults = new List<Fault>();
            foreach (var kind in schedule)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next((int)settings.MinGap.TotalMilliseconds, (int)settings.MaxGap.TotalMilliseconds + 1)));
                var fault = await chaos.InjectAsync(kind, random, settings.MaxOutage);
                faults.Add(fault);
                log($"{fault.At:HH:mm:ss.fff} {fault.Kind}: {fault.Detail}");
                // The next fault comes once every run live at this one streams again (or has nothing left to stream).
                List<RunWatch> exposed;
                lock (runs)
                {
                    exposed = runs.Where(r => r.LiveAt(fault.At)).ToList();
                }
                try
                {
                    await Eventually.TrueAsync(() => exposed.All(r => r.Ended is not null || r.FirstNewTokenAfter(fault.At) is not null),
                        settings.RecoveryTimeout, $"every run streams again after {fault.Kind}");
                }
                catch (TimeoutException)
                {
                    foreach (var run in exposed.Where(r => r.Ended is null && r.FirstNewTokenAfter(fault.At) is null))
                    {
                        var events = run.Events;
                        var last = events.Count > 0 ? events[^1] : default;
                        log($"not streaming again {settings.RecoveryTimeout.TotalSeconds} s after {fault.Kind}: {run.Flow} {run.RunId} ({run.Watcher}), "
                            + $"last event {last.Event?.Type} {last.Event?.Step}#{last.Event?.Attempt} at {last.At:HH:mm:ss.fff}");
                    }
                }
            }

            await stopStarting.CancelAsync();
            drain.CancelAfter(settings.DrainTimeout);
            await Task.WhenAll(keepers);
            List<RunWatch> all;
            lock (runs)
            {
                all = [.. runs];
            }
            log($"{all.Count} runs; checking what every client showed");
            var differences = new List<string>();
            var outcomes = new Dictionary<string, RunInfo>();
            foreach (var run in all)
            {
                RunInfo? info = null;
                await Eventually.TrueAsync(async () => (info = await starter.GetRunAsync(run.RunId)).Status != "running",
                    TimeSpan.FromMinutes(1), $"run {run.RunId} closes");
                outcomes[run.RunId] = info!;
                differences.AddRange(run.Differences(info!).Select(d => $"{run.Flow} {run.RunId} ({run.Watcher}): {d}"));
            }
            foreach (var browser in browsers)
            {
                var shown = await browser.ResultsAsync(settings.DrainTimeout);
                foreach (var run in all)
                {
                    differences.AddRange(shown.TryGetValue(run.RunId, out var page)
                        ? page.Differences(outcomes[run.RunId].ResultText).Select(d => $"{run.Flow} {run.RunId} ({browser.Name}): {d}")
                        : [$"{run.Flow} {run.RunId} ({browser.Name}): never watched"]);
                }
            }
            return new ChaosReport(settings.Seed, all.Count, Figures(settings, faults, all), differences, faults);
        }
        finally
        {
            foreach (var browser in browsers)
            {
                await browser.DisposeAsync();
            }
        }
    }

    // A start refused while a part is down (the client gave up retrying) is retried with the same key, as an app
    // would: the key makes sure only one run starts.
    private static async Task<string> StartAsync(AgentOrchestratorClient starter, string flow, int number, Action<string> log, CancellationToken cancellationToken)
    {
        var key = $"chaos-{Guid.NewGuid():N}";
        while (true)
        {
            try
            {
                return (await starter.StartRunAsync(flow, $"Chaos run {number}: explain how a system keeps a promise when its parts fail.", key, cancellationToken)).RunId;
            }
            catch (AgentOrchestratorException e) when (e is not QuotaExceededException && e.Code == ErrorCodes.Unavailable)
            {
                log($"start of run {number} refused ({e.Message}); again");
            }
        }
    }

    private static List<FaultFigures> Figures(ChaosSettings settings, List<Fault> faults, List<RunWatch> runs) =>
        settings.Faults.Select(kind =>
        {
            var ofKind = faults.Where(f => f.Kind == kind).ToList();
            var exposures = ofKind.SelectMany(f => runs.Where(r => r.LiveAt(f.At)).Select(r => (Fault: f, Run: r))).ToList();
            var audits = exposures.Select(e => e.Run.TokenAudit()).ToList();
            var recoveries = exposures
                .Select(e => e.Run.FirstNewTokenAfter(e.Fault.At) - e.Fault.At)
                .OfType<TimeSpan>().Order().ToList();
            return new FaultFigures(kind, ofKind.Count, exposures.Count, audits.Sum(a => a.Lost), audits.Sum(a => a.Duplicated),
                runs.SelectMany(r => r.ResetTimes).Count(t => LatestBefore(faults, t)?.Kind == kind),
                runs.SelectMany(r => r.RepeatTimes).Count(t => LatestBefore(faults, t)?.Kind == kind), recoveries.Count,
                Percentile(recoveries, 0.5), Percentile(recoveries, 0.99), recoveries.Count == 0 ? null : recoveries[^1]);
        }).ToList();

    // A reset or a step run again is put down to the last fault before it.
    private static Fault? LatestBefore(List<Fault> faults, DateTimeOffset moment) => faults.LastOrDefault(f => f.At <= moment);

    private static TimeSpan? Percentile(List<TimeSpan> sorted, double p) =>
        sorted.Count == 0 ? null : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static AgentOrchestratorClient Client(Uri entrance, string token, StreamTransport transport) => new(new AgentOrchestratorClientOptions
    {
        BaseAddress = entrance,
        AccessTokenProvider = _ => ValueTask.FromResult(token),
        Transport = transport,
    });
}
