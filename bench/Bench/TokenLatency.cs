using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Scenario a: time from the model simulator emitting a token (its x_emitted_at_us stamp, carried on the token
/// delta) to a SignalR subscriber receiving it, for N concurrent writer-reviewer runs, embedded and distributed.
/// The first token of each delta is measured (later tokens of a batch wait less). The baseline is the same
/// client reading N concurrent streams of the simulator's SSE directly (every chunk), from a simulator process
/// of its own; the ratio and the added milliseconds compare the two at the same N.
/// </summary>
internal static class TokenLatency
{
    private sealed record Row(string Mode, int Runs, List<double> Samples);

    public static async Task RunAsync(BenchSettings settings)
    {
        var concurrencies = settings.ReadInts("--runs", settings.Smoke ? [1] : [1, 50, 500]);
        var rows = new List<Row>();
        await using (var simulator = ServiceProcess.Start("ModelSimulator", ["--urls", $"http://127.0.0.1:{ServiceProcess.FreePort()}"], new Dictionary<string, string>(), "Now listening on"))
        {
            var line = await simulator.WaitReadyAsync();
            var address = new Uri(line[(line.IndexOf("http://", StringComparison.Ordinal))..].Trim());
            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(3) };
            await ReadSimulatorAsync(http, "warm-up", []);
            foreach (var runs in concurrencies)
            {
                var samples = new List<double>();
                await Task.WhenAll(Enumerable.Range(0, runs).Select(i => ReadSimulatorAsync(http, $"bench-{i}", samples)));
                rows.Add(new Row("baseline (simulator SSE read directly)", runs, samples));
            }
        }
        await using (var embedded = await EmbeddedDeployment.StartAsync())
        {
            foreach (var runs in concurrencies)
            {
                rows.Add(new Row("embedded (in-memory bus)", runs, await MeasureAsync(embedded, runs)));
            }
        }
        if (!settings.Has("--embedded-only"))
        {
            var rabbit = new Uri(Environment.GetEnvironmentVariable("RABBITMQ_URI") ?? "amqp://guest:guest@127.0.0.1:5672/");
            await using var distributed = await DistributedDeployment.StartAsync(rabbit);
            foreach (var runs in concurrencies)
            {
                rows.Add(new Row("distributed (4 processes, RabbitMQ)", runs, await MeasureAsync(distributed, runs)));
            }
        }
        foreach (var row in rows)
        {
            row.Samples.Sort();
        }
        double BaselineP50(int runs) => Report.Percentile(rows.First(r => r.Runs == runs).Samples, 0.5);
        Console.WriteLine("### token-latency (simulator emit stamp to receipt, writer-reviewer runs at the simulator's default speed)");
        Report.Table(["mode", "concurrent runs", "tokens/deltas", "p50 ms", "p90 ms", "p99 ms", "max ms", "added p50 ms", "p50 ratio to baseline"],
            rows.Select(r => new[]
            {
                r.Mode, Report.N(r.Runs), Report.N(r.Samples.Count), Report.F(Report.Percentile(r.Samples, 0.5)), Report.F(Report.Percentile(r.Samples, 0.9)),
                Report.F(Report.Percentile(r.Samples, 0.99)), Report.F(r.Samples.Count == 0 ? double.NaN : r.Samples[^1]),
                Report.F(Report.Percentile(r.Samples, 0.5) - BaselineP50(r.Runs)), Report.F(Report.Percentile(r.Samples, 0.5) / BaselineP50(r.Runs), 1),
            }));
        var modes = rows.Select(r => r.Mode).Distinct().ToList();
        Report.BarChart(settings, "token-latency.png", "Token latency p99 by concurrent runs", "p99 ms",
            [.. concurrencies.Select(c => $"{c} runs")],
            [.. modes.Select(mode => (mode, concurrencies.Select(c => Report.Percentile(rows.First(r => r.Mode == mode && r.Runs == c).Samples, 0.99)).ToArray()))]);
    }

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

    private static async Task<List<double>> MeasureAsync(IRunningDeployment deployment, int runs)
    {
        // Warm-up run so JIT and connections are not measured.
        await RunOneAsync(deployment, "warm-up", []);
        var samples = new List<double>();
        await Task.WhenAll(Enumerable.Range(0, runs).Select(i => RunOneAsync(deployment, $"bench-{i}", samples)));
        return samples;
    }

    private static async Task RunOneAsync(IRunningDeployment deployment, string tenant, List<double> samples)
    {
        await using var client = await RunClient.ConnectAsync(deployment.Gateway, tenant);
        var runId = await client.StartRunAsync(Flows.WriterReviewer, $"Measure the token path for {tenant}.");
        var local = new List<double>();
        await foreach (var runEvent in client.StreamEventsAsync(runId, TimeSpan.FromMinutes(3)))
        {
            var receivedAtUs = Report.NowUnixMicroseconds();
            if (runEvent.Type == RunEventTypes.Token && runEvent.ModelEmittedAtUs is { } emittedAtUs)
            {
                local.Add((receivedAtUs - emittedAtUs) / 1000.0);
            }
        }
        lock (samples)
        {
            samples.AddRange(local);
        }
    }
}
