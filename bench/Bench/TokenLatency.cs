using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Scenario a: time from the model simulator emitting a token (its x_emitted_at_us stamp, carried on the token delta)
/// to a SignalR subscriber receiving it, for N concurrent streams, side by side in one run: the simulator's SSE read
/// directly (the floor), a hand-written SignalR hub relaying it (bench/Relay: the peer, no durability, no bus), and the
/// product embedded and distributed over RabbitMQ (writer-reviewer runs). The first token of each delta is measured
/// (later tokens of a batch wait less). Every row is compared with the direct read (added p50) and with the relay at
/// the same N (ratio at p50 and p99: issue 12's goal is the RabbitMQ path within 1.5x of the relay at 50 streams).
/// A second table breaks the product's latency down per hop of the token's path (<see cref="TokenHops"/>): the product's
/// subscribers use timed subscriptions (each live delta carries its path's stamps; a few dozen bytes more per delta).
/// </summary>
internal static class TokenLatency
{
    public const string Direct = "direct read (simulator SSE)";
    public const string Relay = "relay (hand-written SignalR hub)";
    public const string Embedded = "embedded (in-memory bus)";
    public const string Distributed = "distributed (4 processes, RabbitMQ)";

    private sealed record Row(string Mode, int Runs, List<double> Samples, TokenHops? Hops);

    public static async Task RunAsync(BenchSettings settings)
    {
        var concurrencies = settings.ReadInts("--runs", settings.Smoke ? [1] : [1, 50, 500]);
        var modes = settings.ReadStrings("--modes", settings.Has("--embedded-only") ? ["direct", "relay", "embedded"] : ["direct", "relay", "embedded", "distributed"]);
        var rows = new List<Row>();
        if (modes.Contains("direct") || modes.Contains("relay"))
        {
            rows.AddRange(await MeasurePeersAsync(concurrencies, modes));
        }
        if (modes.Contains("embedded"))
        {
            await using var embedded = await EmbeddedDeployment.StartAsync();
            foreach (var runs in concurrencies)
            {
                var (samples, hops) = await MeasureAsync(embedded, [embedded.Gateway], runs);
                rows.Add(new Row(Embedded, runs, samples, hops));
            }
        }
        if (modes.Contains("distributed"))
        {
            var rabbit = new Uri(Environment.GetEnvironmentVariable("RABBITMQ_URI") ?? "amqp://guest:guest@127.0.0.1:5672/");
            await using var distributed = await DistributedDeployment.StartAsync(rabbit);
            foreach (var runs in concurrencies)
            {
                var (samples, hops) = await MeasureAsync(distributed, [distributed.Worker, distributed.Gateway], runs);
                rows.Add(new Row(Distributed, runs, samples, hops));
            }
        }
        foreach (var row in rows)
        {
            row.Samples.Sort();
        }
        PrintTables(settings, concurrencies, rows);
    }

    /// <summary>The simulator read directly, then through the relay (bench/Relay), from one simulator process of their own.</summary>
    private static async Task<List<Row>> MeasurePeersAsync(IReadOnlyList<int> concurrencies, IReadOnlyList<string> modes)
    {
        var rows = new List<Row>();
        await using (var simulator = ServiceProcess.Start("ModelSimulator", ["--urls", $"http://127.0.0.1:{ServiceProcess.FreePort()}"], new Dictionary<string, string>(), "Now listening on"))
        {
            var address = ListeningAddress(await simulator.WaitReadyAsync());
            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(3) };
            await ReadSimulatorAsync(http, "warm-up", []);
            foreach (var runs in modes.Contains("direct") ? concurrencies : [])
            {
                var samples = new List<double>();
                await Task.WhenAll(Enumerable.Range(0, runs).Select(i => ReadSimulatorAsync(http, $"bench-{i}", samples)));
                rows.Add(new Row(Direct, runs, samples, null));
            }
            if (!modes.Contains("relay"))
            {
                return rows;
            }
            var relayUrl = $"http://127.0.0.1:{ServiceProcess.FreePort()}";
            await using var relay = ServiceProcess.Start("bench/Relay", ["--urls", relayUrl, "--Relay:Model", new Uri(address, "v1/").ToString()],
                new Dictionary<string, string>(), "Now listening on");
            await relay.WaitReadyAsync();
            foreach (var runs in concurrencies)
            {
                rows.Add(new Row(Relay, runs, await MeasureRelayAsync(new Uri(relayUrl), runs), null));
            }
        }
        return rows;
    }

    private static void PrintTables(BenchSettings settings, IReadOnlyList<int> concurrencies, List<Row> rows)
    {
        double Of(string mode, int runs, double p) => rows.FirstOrDefault(r => r.Mode == mode && r.Runs == runs) is { } row ? Report.Percentile(row.Samples, p) : double.NaN;
        Console.WriteLine("### token-latency (simulator emit stamp to receipt, first token of each delta; writer-reviewer runs at the simulator's default speed)");
        Report.Table(["mode", "concurrent streams", "deltas", "p50 ms", "p90 ms", "p99 ms", "max ms", "added p50 ms", "p50 ratio to relay", "p99 ratio to relay"],
            rows.Select(r => new[]
            {
                r.Mode, Report.N(r.Runs), Report.N(r.Samples.Count), Report.F(Report.Percentile(r.Samples, 0.5)), Report.F(Report.Percentile(r.Samples, 0.9)),
                Report.F(Report.Percentile(r.Samples, 0.99)), Report.F(r.Samples.Count == 0 ? double.NaN : r.Samples[^1]),
                Report.F(Report.Percentile(r.Samples, 0.5) - Of(Direct, r.Runs, 0.5)),
                Report.F(Report.Percentile(r.Samples, 0.5) / Of(Relay, r.Runs, 0.5)), Report.F(Report.Percentile(r.Samples, 0.99) / Of(Relay, r.Runs, 0.99)),
            }));
        Console.WriteLine("### token-latency per hop (each hop from the point before it; source: events = stamps of every delta of a timed subscription and the client's receipt, metrics = the service's histogram between two scrapes, interpolated in its buckets)");
        Report.Table(["mode", "concurrent streams", "hop", "from", "source", "samples", "p50 ms", "p99 ms"],
            rows.Where(r => r.Hops is not null).SelectMany(r => r.Hops!.Rows().Select(h => new[]
            {
                r.Mode, Report.N(r.Runs), h.Hop, h.From, h.Source, Report.N(h.Samples), Report.F(h.P50), Report.F(h.P99),
            })), name: "token-latency hops");
        Report.BarChart(settings, "token-latency.png", "Token latency p99 by concurrent streams", "p99 ms",
            [.. concurrencies.Select(c => $"{c} streams")],
            [.. rows.Select(r => r.Mode).Distinct().Select(mode => (mode, concurrencies.Select(c => Of(mode, c, 0.99)).ToArray()))]);
    }

    private static Uri ListeningAddress(string line) => new(line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim());

    /// <summary>One streaming chat completion read as any OpenAI client would; every chunk's emit-to-receipt time.</summary>
    private static async Task ReadSimulatorAsync(HttpClient http, string prompt, List<double> samples)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "sim-1", stream = true, messages = new[] { new { role = "user", content = $"Measure the token path for {prompt}." } } }),
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var local = new List<double>();
        while (await reader.ReadLineAsync() is { } line)
        {
            var receivedAtUs = Report.NowUnixMicroseconds();
            if (!line.StartsWith("data: {", StringComparison.Ordinal))
            {
                continue;
            }
            using var chunk = JsonDocument.Parse(line.AsMemory("data: ".Length));
            var hasContent = chunk.RootElement.GetProperty("choices").EnumerateArray()
                .Any(choice => choice.TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String);
            if (hasContent && chunk.RootElement.TryGetProperty("x_emitted_at_us", out var emitted))
            {
                local.Add((receivedAtUs - emitted.GetInt64()) / 1000.0);
            }
        }
        lock (samples)
        {
            samples.AddRange(local);
        }
    }

    /// <summary>N relay streams at once, each on its own SignalR connection, after a warm-up stream (JIT, connections).</summary>
    private static async Task<List<double>> MeasureRelayAsync(Uri relay, int streams)
    {
        var hubs = Enumerable.Range(0, streams + 1).Select(_ => new HubConnectionBuilder().WithUrl(new Uri(relay, "/hubs/relay")).Build()).ToList();
        try
        {
            await Task.WhenAll(hubs.Select(hub => hub.StartAsync()));
            await ReadRelayAsync(hubs[^1], "warm-up", []);
            var samples = new List<double>();
            await Task.WhenAll(hubs.Take(streams).Select((hub, i) => ReadRelayAsync(hub, $"bench-{i}", samples)));
            return samples;
        }
        finally
        {
            await Task.WhenAll(hubs.Select(hub => hub.DisposeAsync().AsTask()));
        }
    }

    private static async Task ReadRelayAsync(HubConnection hub, string prompt, List<double> samples)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var local = new List<double>();
        await foreach (var chunk in hub.StreamAsync<RelayChunk>("Stream", $"Measure the token path for {prompt}.", timeout.Token))
        {
            var receivedAtUs = Report.NowUnixMicroseconds();
            if (chunk.EmittedAtUs > 0)
            {
                local.Add((receivedAtUs - chunk.EmittedAtUs) / 1000.0);
            }
        }
        lock (samples)
        {
            samples.AddRange(local);
        }
    }

    private static async Task<(List<double> Samples, TokenHops Hops)> MeasureAsync(IRunningDeployment deployment, IReadOnlyList<Uri> services, int runs)
    {
        // Warm-up run so JIT and connections are not measured.
        await RunOneAsync(deployment, "warm-up", [], null);
        var hops = await TokenHops.StartAsync(services);
        var samples = new List<double>();
        await Task.WhenAll(Enumerable.Range(0, runs).Select(i => RunOneAsync(deployment, $"bench-{i}", samples, hops)));
        await hops.StopAsync();
        return (samples, hops);
    }

    private static async Task RunOneAsync(IRunningDeployment deployment, string tenant, List<double> samples, TokenHops? hops)
    {
        await using var client = await RunClient.ConnectAsync(deployment.Gateway, tenant);
        var runId = await client.StartRunAsync(Flows.WriterReviewer, $"Measure the token path for {tenant}.");
        var local = new List<double>();
        await foreach (var timed in client.StreamTimedEventsAsync(runId, TimeSpan.FromMinutes(3)))
        {
            var receivedAtUs = Report.NowUnixMicroseconds();
            if (timed.Event.Type == RunEventTypes.Token && timed.Event.ModelEmittedAtUs is { } emittedAtUs)
            {
                local.Add((receivedAtUs - emittedAtUs) / 1000.0);
                hops?.Add(timed, receivedAtUs);
            }
        }
        lock (samples)
        {
            samples.AddRange(local);
        }
    }

    /// <summary>What the relay hub streams (bench/Relay's RelayChunk).</summary>
    private sealed record RelayChunk(string Text, long EmittedAtUs);
}
