using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Scenario c (<c>--transport signalr</c>, the default, or <c>websocket</c>: the plain WebSocket endpoint /v1/ws): N idle
/// connections held by one gateway process (the embedded deployment, so the process
/// also hosts the worker, dev server and simulator: its baseline is subtracted). Memory per connection is the
/// process's RSS delta / N (/proc/&lt;pid&gt;/status VmRSS), and the delta of its live GC heap / N, the bytes that
/// survive a full GC forced at both points (<see cref="GcHeapProbe"/>), with the RSS right after that GC: RSS alone
/// moves with GC budgets and heap growth, the live heap only with what the connections hold. Then a storm: every
/// client drops its connection and all reconnect at once against the node admission rate; refused connects (503
/// admission) wait a random 0-1 s (full jitter, as src/Client does) and retry. Reported: time until all N are
/// connected again, the refusals, and the gateway's GC pauses during the storm (runtime events over EventPipe).
/// </summary>
internal static class Connections
{
    private const string SignalRTransport = "signalr";
    private const string WebSocketTransport = "websocket";

    public static async Task RunAsync(BenchSettings settings)
    {
        var count = settings.ReadInt("--connections", settings.Smoke ? 50 : 10_000);
        var transport = settings.ReadStrings("--transport", [SignalRTransport])[0];
        if (transport is not (SignalRTransport or WebSocketTransport))
        {
            throw new NotSupportedException($"--transport {transport}: '{SignalRTransport}' or '{WebSocketTransport}'.");
        }
        var rate = settings.ReadInt("--admission-rate", settings.Smoke ? 20 : 1_000);
        var environment = new Dictionary<string, string>
        {
            ["Quotas__Node__ConnectionsPerSecond"] = rate.ToString(CultureInfo.InvariantCulture),
            ["Quotas__Node__ConnectionBurst"] = rate.ToString(CultureInfo.InvariantCulture),
        };
        // e.g. --gateway-env DOTNET_gcServer=0: the gateway's runtime settings compared in one run
        foreach (var setting in settings.ReadStrings("--gateway-env", []))
        {
            var (name, value) = setting.Split('=', 2) is [var n, var v] ? (n, v) : throw new ArgumentException($"--gateway-env {setting}: NAME=VALUE");
            environment[name] = value;
        }
        var distributed = settings.ReadStrings("--deployment", ["embedded"])[0] switch
        {
            "embedded" => false,
            "distributed" => true,
            var other => throw new NotSupportedException($"--deployment {other}: 'embedded' or 'distributed'."),
        };
        await using var deployment = await GatewayUnderTest.StartAsync(distributed, environment);
        using var client = await GatewayClient.CreateAsync(deployment.Gateway, "bench-connections");
        var refusals = new Counter();

        IIdleConnection NewConnection() => transport == WebSocketTransport
            ? new PlainWebSocketConnection(deployment.Gateway, client.Token)
            : new SignalRConnection(client.NewHub(closeIdleNegotiate: true));

        // Warm the connection path (JIT, authentication) before the baseline, so the delta is per connection.
        var warm = NewConnection();
        await ConnectAsync(warm, refusals);
        await Task.Delay(TimeSpan.FromSeconds(1)); // let start-up allocations settle before the baseline RSS
        var before = await MeasureAsync(deployment.ProcessId);

        var hubs = Enumerable.Range(0, count).Select(_ => NewConnection()).ToList();
        var openClock = Stopwatch.StartNew();
        await ForEachAsync(hubs, hub => ConnectAsync(hub, refusals));
        openClock.Stop();
        var openRefusals = refusals.Value;
        await Task.Delay(TimeSpan.FromSeconds(3)); // idle negotiate connections close (see GatewayClient.NewHub)
        var after = await MeasureAsync(deployment.ProcessId);
        var bytesPerConnection = (double)(after.Rss - before.Rss) / count;
        var liveBytesPerConnection = (double)(after.LiveHeap - before.LiveHeap) / count;
        var rssAfterGcPerConnection = (double)(after.RssAfterGc - before.RssAfterGc) / count;
        if (settings.ReadInt("--hold", 0) is > 0 and var hold)
        {
            // Time to look inside the gateway with its connections open (dotnet-gcdump, dotnet-counters).
            Console.WriteLine($"holding {Report.N(count)} connections for {hold} s: gateway pid {deployment.ProcessId}");
            await Task.Delay(TimeSpan.FromSeconds(hold));
        }

        // The storm: every connection goes, then all come back at once.
        await ForEachAsync(hubs, hub => hub.StopAsync());
        refusals.Reset();
        await using var gc = GcPauseRecorder.Start(deployment.ProcessId);
        var stormClock = Stopwatch.StartNew();
        await Task.WhenAll(hubs.Select(hub => ConnectAsync(hub, refusals)));
        stormClock.Stop();
        var pauses = await gc.StopAsync();
        var connected = hubs.Count(hub => hub.IsConnected);

        Console.WriteLine($"### connections ({Report.N(count)} idle {transport} connections, one {(distributed ? "gateway process (distributed)" : "embedded gateway process")}, node admission {Report.N(rate)}/s{string.Concat(settings.ReadStrings("--gateway-env", []).Select(e => ", " + e))})");
        Report.Table(["measure", "value"],
        [
            ["connections opened (100 at a time)", Report.N(count)],
            ["time to open them, s", Report.F(openClock.Elapsed.TotalSeconds)],
            ["gateway RSS before / after, MB", $"{Report.F(before.Rss / 1048576.0, 1)} / {Report.F(after.Rss / 1048576.0, 1)}"],
            ["RSS per connection, KB", Report.F(bytesPerConnection / 1024, 1)],
            ["gateway live GC heap (after a full GC) before / after, MB", $"{Report.F(before.LiveHeap / 1048576.0, 1)} / {Report.F(after.LiveHeap / 1048576.0, 1)}"],
            ["live GC heap per connection, KB", Report.F(liveBytesPerConnection / 1024, 1)],
            ["RSS right after that full GC, per connection, KB", Report.F(rssAfterGcPerConnection / 1024, 1)],
            ["admission refusals while opening", Report.N(openRefusals)],
            ["storm: all reconnect at once, time to full recovery, s", Report.F(stormClock.Elapsed.TotalSeconds)],
            ["storm: connected at the end", Report.N(connected)],
            ["storm: admission refusals (503) seen and retried", Report.N(refusals.Value)],
            ["storm: gateway GC pauses", Report.N(pauses.Count)],
            ["storm: GC pause p50 / p99 / max, ms", $"{Report.F(Report.Percentile(pauses, 0.5))} / {Report.F(Report.Percentile(pauses, 0.99))} / {Report.F(pauses.Count == 0 ? double.NaN : pauses[^1])}"],
        ]);
        Report.BarChart(settings, "connections.png", $"{Report.N(count)} idle connections: memory and reconnect storm", "value",
            ["RSS/connection KB", "live heap/connection KB", "recovery s", "refusals/100", "GC pause p99 ms"],
            [("measured", [bytesPerConnection / 1024, liveBytesPerConnection / 1024, stormClock.Elapsed.TotalSeconds, refusals.Value / 100.0, Report.Percentile(pauses, 0.99)])]);

        await ForEachAsync(hubs, hub => hub.DisposeAsync().AsTask());
        await warm.DisposeAsync();
        if (connected != count)
        {
            throw new InvalidOperationException($"only {connected} of {count} connections recovered");
        }
    }

    /// <summary>Connects, retrying refused admissions after a random 0-1 s wait (full jitter).</summary>
    private static async Task ConnectAsync(IIdleConnection hub, Counter refusals)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await hub.StartAsync();
                return;
            }
            catch (HttpRequestException exception) when (exception.StatusCode == HttpStatusCode.ServiceUnavailable && deadline.Elapsed < TimeSpan.FromMinutes(2))
            {
                refusals.Increment();
                await Task.Delay(Random.Shared.Next(0, 1000));
            }
        }
    }

    private static Task ForEachAsync<T>(IEnumerable<T> items, Func<T, Task> action) =>
        Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 100 }, async (item, _) => await action(item));

    /// <summary>RSS as it is, then the live heap (forcing a full GC), then RSS again.</summary>
    private static async Task<Memory> MeasureAsync(int processId)
    {
        var rss = ReadRssBytes(processId);
        var live = await GcHeapProbe.LiveBytesAfterFullGcAsync(processId);
        return new Memory(rss, live, ReadRssBytes(processId));
    }

    private sealed record Memory(long Rss, long LiveHeap, long RssAfterGc);

    private static long ReadRssBytes(int processId)
    {
        foreach (var line in File.ReadLines($"/proc/{processId}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException($"no VmRSS in /proc/{processId}/status");
    }

    private sealed class Counter
    {
        private int _value;

        public int Value => Volatile.Read(ref _value);

        public void Increment() => Interlocked.Increment(ref _value);

        public void Reset() => Volatile.Write(ref _value, 0);
    }

    /// <summary>One client connection the scenario opens, drops and reopens; one implementation per --transport.</summary>
    private interface IIdleConnection
    {
        bool IsConnected { get; }

        /// <summary>Connects; a refused admission throws <see cref="HttpRequestException"/> with status 503.</summary>
        Task StartAsync();

        Task StopAsync();

        ValueTask DisposeAsync();
    }

    private sealed class SignalRConnection(HubConnection hub) : IIdleConnection
    {
        public bool IsConnected => hub.State == HubConnectionState.Connected;

        public Task StartAsync() => hub.StartAsync();

        public Task StopAsync() => hub.StopAsync();

        public ValueTask DisposeAsync() => hub.DisposeAsync();
    }

    /// <summary>A /v1/ws connection: a new socket per start (a closed ClientWebSocket cannot reopen); it subscribes to nothing.</summary>
    private sealed class PlainWebSocketConnection(Uri gateway, string token) : IIdleConnection
    {
        private readonly Uri _address = new UriBuilder(new Uri(gateway, "v1/ws")) { Scheme = gateway.Scheme == "https" ? "wss" : "ws" }.Uri;
        private ClientWebSocket? _socket;

        public bool IsConnected => _socket?.State == WebSocketState.Open;

        public async Task StartAsync()
        {
            var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            try
            {
                await socket.ConnectAsync(_address, CancellationToken.None);
            }
            catch (WebSocketException e)
            {
                var status = socket.HttpStatusCode;
                socket.Dispose();
                throw new HttpRequestException($"the upgrade was answered {(int)status}", e, status);
            }
            _socket = socket;
        }

        public async Task StopAsync()
        {
            if (_socket is { State: WebSocketState.Open } socket)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
            _socket?.Dispose();
            _socket = null;
        }

        public async ValueTask DisposeAsync() => await StopAsync();
    }
}
