using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Issue 4's slow-client figure: one long writer-reviewer run watched by one fast SignalR subscriber, first alone,
/// then beside K SSE subscribers that read at most 512 bytes every 50 ms through a 4 KB socket receive buffer (about
/// 5-10 KB/s, far below the run's event rate), then beside K SSE subscribers that read as fast as they can (the same
/// fan-out work for the gateway without the slowness). Reports the fast subscriber's emit-to-receipt latency in each
/// case (slow readers must cost no more than fast ones), the SSE readers' rate and how many the gateway ended as slow
/// consumers.
/// </summary>
internal static class SlowSubscribers
{
    private const int SlowReadBytes = 512;
    private static readonly TimeSpan SlowReadPause = TimeSpan.FromMilliseconds(50);

    public static async Task RunAsync(BenchSettings settings)
    {
        var slowCount = settings.ReadInt("--slow", settings.Smoke ? 1 : 20);
        var answerTokens = settings.Smoke ? 200 : 20_000;
        var rows = new List<string[]>();
        var p50s = new List<double>();
        var p99s = new List<double>();
        foreach (var (slow, paced) in new[] { (0, true), (slowCount, true), (slowCount, false) })
        {
            await using var deployment = await EmbeddedDeployment.StartAsync(new Dictionary<string, string>
            {
                // Head start so every subscriber is in place before the first token; long answers so slow readers back up.
                ["ModelSimulator__TimeToFirstToken"] = TimeSpan.FromSeconds(3).ToString(),
                ["ModelSimulator__MinAnswerTokens"] = answerTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["ModelSimulator__MaxAnswerTokens"] = answerTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["ModelSimulator__TokensPerSecond"] = settings.Smoke ? "1000" : "2000",
            });
            using var client = await GatewayClient.CreateAsync(deployment.Gateway, "bench-slow");
            await using var hub = client.NewHub();
            await hub.StartAsync();
            var runId = await client.StartRunAsync(Flows.WriterReviewer, $"Stream beside {slow} slow subscribers.");
            using var stopSlow = new CancellationTokenSource();
            var slowReaders = Enumerable.Range(0, slow).Select(_ => ReadAsync(deployment.Gateway, client.Token, runId, paced, stopSlow.Token)).ToList();

            var subscribedAtUs = Report.NowUnixMicroseconds();
            var samples = new List<double>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, null, timeout.Token))
            {
                var receivedAtUs = Report.NowUnixMicroseconds();
                if (runEvent.Type == RunEventTypes.Token && runEvent.ModelEmittedAtUs is { } emittedAtUs && emittedAtUs >= subscribedAtUs)
                {
                    samples.Add((receivedAtUs - emittedAtUs) / 1000.0);
                }
            }
            await stopSlow.CancelAsync();
            var slowResults = await Task.WhenAll(slowReaders);
            samples.Sort();
            p50s.Add(Report.Percentile(samples, 0.5));
            p99s.Add(Report.Percentile(samples, 0.99));
            var slowRate = slowResults.Length == 0 ? 0 : slowResults.Average(r => r.Bytes / r.Seconds / 1024);
            rows.Add([
                slow == 0 ? "none" : $"{Report.N(slow)} {(paced ? "slow" : "fast")}", Report.N(samples.Count), Report.F(p50s[^1]), Report.F(Report.Percentile(samples, 0.9)), Report.F(p99s[^1]),
                Report.F(samples.Count == 0 ? 0 : samples[^1]), slow == 0 ? "-" : Report.F(slowRate, 1), Report.N(slowResults.Count(r => r.EndedAsSlowConsumer)),
            ]);
        }
        Console.WriteLine("### slow-subscribers (one long writer-reviewer run: one fast SignalR subscriber, with and without slow SSE readers, embedded)");
        Report.Table(["other SSE subscribers", "fast: token deliveries", "fast p50 ms", "fast p90 ms", "fast p99 ms", "fast max ms", "SSE read KB/s (mean)", "SSE ended as slow_consumer"], rows);
        Report.BarChart(settings, "slow-subscribers.png", "Fast subscriber latency without and with slow subscribers", "ms",
            ["alone", $"beside {slowCount} slow", $"beside {slowCount} fast"], [("p50", [.. p50s]), ("p99", [.. p99s])]);
    }

    /// <summary>Reads the run's SSE stream (paced: slowly) until stopped or ended; true when the gateway ended it as a slow consumer.</summary>
    private static async Task<(long Bytes, double Seconds, bool EndedAsSlowConsumer)> ReadAsync(Uri gateway, string token, string runId, bool paced, CancellationToken stop)
    {
        using var handler = new SocketsHttpHandler
        {
            // A small receive window makes the gateway's own outbound queue, not the kernel, hold what this reader lags.
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                if (paced)
                {
                    socket.ReceiveBufferSize = 4096;
                }
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway, $"/v1/runs/{runId}/events"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var started = Report.NowUnixMicroseconds();
        long bytes = 0;
        var endedAsSlowConsumer = false;
        var recent = new StringBuilder();
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
            response.EnsureSuccessStatusCode();
            await using var stream = await response.Content.ReadAsStreamAsync(stop);
            var buffer = new byte[paced ? SlowReadBytes : 64 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, stop)) > 0)
            {
                bytes += read;
                // Keep a short window so a marker split across two reads is still seen.
                recent.Append(Encoding.UTF8.GetString(buffer, 0, read));
                if (recent.ToString().Contains("slow_consumer", StringComparison.Ordinal))
                {
                    endedAsSlowConsumer = true;
                }
                recent.Remove(0, Math.Max(0, recent.Length - 64));
                if (paced)
                {
                    await Task.Delay(SlowReadPause, stop);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The fast subscriber finished: the measurement is over.
        }
        var seconds = Math.Max(0.001, (Report.NowUnixMicroseconds() - started) / 1_000_000.0);
        return (bytes, seconds, endedAsSlowConsumer);
    }
}
