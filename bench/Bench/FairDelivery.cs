using System.Globalization;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Issue 7's fair-bandwidth figure: tenant A watches one long writer run from many SignalR connections, tenant B its
/// own from a few, on one embedded gateway: with unlimited outbound capacity (bytes follow demand, so A's fan-out
/// takes almost everything), then with Gateway:Delivery:MaxBytesPerSecond below the demand and fairness weights A:B of
/// 1:1 and 3:1. Reports each tenant's delivered rate (JSON bytes of the token events its subscribers received) and A's
/// share while both stream, and each tenant's emit-to-receipt token latency.
/// </summary>
internal static class FairDelivery
{
    private const string TenantA = "bench-fair-a";
    private const string TenantB = "bench-fair-b";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static async Task RunAsync(BenchSettings settings)
    {
        var subscribersA = settings.ReadInt("--subscribers-a", settings.Smoke ? 2 : 40);
        var subscribersB = settings.ReadInt("--subscribers-b", settings.Smoke ? 1 : 8);
        var capacity = settings.ReadInt("--capacity", settings.Smoke ? 64 * 1024 : 160 * 1024);
        // Measured from 2 s after the first token to 8 s after it (smoke: 0.2 s to 1 s), while the writer still streams.
        var (from, to) = settings.Smoke ? (TimeSpan.FromSeconds(0.2), TimeSpan.FromSeconds(1)) : (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(8));
        var rows = new List<string[]>();
        var shares = new List<double>();
        var labels = new List<string>();
        foreach (var (limited, weightA) in new[] { (false, 1.0), (true, 1.0), (true, 3.0) })
        {
            var environment = new Dictionary<string, string>
            {
                ["ModelSimulator__TimeToFirstToken"] = TimeSpan.FromSeconds(Math.Max(2, (subscribersA + subscribersB) * 0.005)).ToString(),
                ["ModelSimulator__MinAnswerTokens"] = settings.Smoke ? "2000" : "20000",
                ["ModelSimulator__MaxAnswerTokens"] = settings.Smoke ? "2000" : "20000",
                ["ModelSimulator__TokensPerSecond"] = "2000",
                [$"Tenancy__Tenants__{TenantA}__FairnessWeight"] = weightA.ToString(CultureInfo.InvariantCulture),
            };
            if (limited)
            {
                environment["Gateway__Delivery__MaxBytesPerSecond"] = capacity.ToString(CultureInfo.InvariantCulture);
            }
            await using var deployment = await EmbeddedDeployment.StartAsync(environment);
            using var clientA = await GatewayClient.CreateAsync(deployment.Gateway, TenantA);
            using var clientB = await GatewayClient.CreateAsync(deployment.Gateway, TenantB);
            var hubs = Enumerable.Range(0, subscribersA).Select(_ => (Tenant: "A", Hub: clientA.NewHub()))
                .Concat(Enumerable.Range(0, subscribersB).Select(_ => (Tenant: "B", Hub: clientB.NewHub()))).ToList();
            await Parallel.ForEachAsync(hubs, new ParallelOptions { MaxDegreeOfParallelism = 50 }, async (h, cancel) => await h.Hub.StartAsync(cancel));
            var runA = await clientA.StartRunAsync(Flows.WriterReviewer, "A fan-out that wants all the bandwidth.");
            var runB = await clientB.StartRunAsync(Flows.WriterReviewer, "B, a small tenant beside it.");

            using var measurement = new Measurement(from, to);
            await Task.WhenAll(hubs.Select(h => WatchAsync(h.Hub, h.Tenant, h.Tenant == "A" ? runA : runB, measurement)));
            await Parallel.ForEachAsync(hubs, async (h, _) => await h.Hub.DisposeAsync());

            var seconds = (to - from).TotalSeconds;
            var (bytesA, latencyA) = measurement.Of("A");
            var (bytesB, latencyB) = measurement.Of("B");
            var share = bytesA + bytesB == 0 ? 0 : (double)bytesA / (bytesA + bytesB);
            shares.Add(share);
            labels.Add(limited ? $"capped, {weightA}:1" : "unlimited");
            rows.Add([
                limited ? $"{Report.N(capacity / 1024)} KB/s" : "unlimited", limited ? $"{weightA}:1" : "-",
                Report.F(bytesA / 1024.0 / seconds, 1), Report.F(bytesB / 1024.0 / seconds, 1), Report.F(share, 3),
                Report.F(Report.Percentile(latencyA, 0.5), 1), Report.F(Report.Percentile(latencyA, 0.99), 1),
                Report.F(Report.Percentile(latencyB, 0.5), 1), Report.F(Report.Percentile(latencyB, 0.99), 1),
            ]);
        }
        Console.WriteLine($"### fair-delivery (tenant A: one writer run, {subscribersA} SignalR subscribers; tenant B: one run, {subscribersB}; embedded; window {from.TotalSeconds}-{to.TotalSeconds} s after the first token)");
        Report.Table(["capacity", "weights A:B", "A KB/s", "B KB/s", "A share", "A p50 ms", "A p99 ms", "B p50 ms", "B p99 ms"], rows);
        Report.BarChart(settings, "fair-delivery.png", "Tenant A's share of delivered bytes", "share", labels, [("A share", [.. shares])]);
    }

    /// <summary>Until the measurement window closes: token bytes and emit-to-receipt latency inside the window.</summary>
    private static async Task WatchAsync(HubConnection hub, string tenant, string runId, Measurement measurement)
    {
        try
        {
            await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, null, measurement.Closed))
            {
                if (runEvent.Type == RunEventTypes.Token)
                {
                    measurement.Token(tenant, JsonSerializer.SerializeToUtf8Bytes(runEvent, Json).Length, runEvent.ModelEmittedAtUs);
                }
            }
        }
        catch (OperationCanceledException) when (measurement.Closed.IsCancellationRequested)
        {
            // The window is over: the rest of the run is not measured.
        }
    }

    /// <summary>A window that opens <c>from</c> after the first token anyone received and closes <c>to</c> after it.</summary>
    private sealed class Measurement(TimeSpan from, TimeSpan to) : IDisposable
    {
        private readonly CancellationTokenSource _closed = new(TimeSpan.FromMinutes(3));
        private readonly Dictionary<string, (long Bytes, List<double> Latency)> _byTenant = new()
        {
            ["A"] = (0, []),
            ["B"] = (0, []),
        };
        private long _firstUs;

        public CancellationToken Closed => _closed.Token;

        public void Token(string tenant, long bytes, long? emittedAtUs)
        {
            var nowUs = Report.NowUnixMicroseconds();
            if (Interlocked.CompareExchange(ref _firstUs, nowUs, 0) == 0)
            {
                _closed.CancelAfter(to);
            }
            var sinceFirst = TimeSpan.FromMicroseconds(nowUs - Interlocked.Read(ref _firstUs));
            if (sinceFirst < from || sinceFirst >= to)
            {
                return;
            }
            lock (_byTenant)
            {
                var (total, latency) = _byTenant[tenant];
                if (emittedAtUs is { } emitted)
                {
                    latency.Add((nowUs - emitted) / 1000.0);
                }
                _byTenant[tenant] = (total + bytes, latency);
            }
        }

        public void Dispose() => _closed.Dispose();

        public (long Bytes, List<double> SortedLatency) Of(string tenant)
        {
            lock (_byTenant)
            {
                var (bytes, latency) = _byTenant[tenant];
                latency.Sort();
                return (bytes, latency);
            }
        }
    }
}
