using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Temporalio.Worker;

namespace AgentOrchestrator.Gateway.Tests.Runs;

/// <summary>With a worker on its own dev server (the shared one keeps runs running for the other tests).</summary>
public sealed class RunResultTests : IAsyncLifetime
{
    private readonly DevServerFixture _devServer = new();

    public Task InitializeAsync() => _devServer.InitializeAsync();

    public Task DisposeAsync() => _devServer.DisposeAsync();

    [Fact]
    public async Task GetRun_CompletedRun_ReturnsCompletedWithResult()
    {
        await using var host = await GatewayTestHost.StartAsync(_devServer.Target);
        var temporal = await _devServer.ConnectClientAsync();
        using var worker = new TemporalWorker(temporal, new TemporalWorkerOptions(TaskQueues.Agents).AddWorkflow<FakeWriterReviewer>());
        using var stop = new CancellationTokenSource();
        var running = worker.ExecuteAsync(stop.Token);
        try
        {
            using var client = await ClientForAsync(host, "acme");
            using var created = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = "draft" });
            var runId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;

            JsonElement run = default;
            await Eventually.TrueAsync(async () =>
            {
                run = await client.GetFromJsonAsync<JsonElement>($"v1/runs/{runId}");
                return run.GetProperty("status").GetString() == "completed";
            }, because: "the worker completes the run");

            Assert.Equal($"reviewed: draft (acme/{runId})", run.GetProperty("result").GetString());
            Assert.Equal(Flows.WriterReviewer, run.GetProperty("flow").GetString());
        }
        finally
        {
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        }
    }

    [Fact]
    public async Task CreateRun_FlowAddedByConfiguration_IsAcceptedAlongsideBuiltIn()
    {
        await using var host = await GatewayTestHost.StartAsync(_devServer.Target,
            settings: new Dictionary<string, string?> { ["Gateway:Flows:0"] = "summarize" });
        using var client = await ClientForAsync(host, "acme");

        using var extra = await client.PostAsJsonAsync("v1/runs", new { flow = "summarize", input = "text" });
        using var builtIn = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = "text" });

        Assert.Equal(HttpStatusCode.Created, extra.StatusCode);
        Assert.Equal(HttpStatusCode.Created, builtIn.StatusCode);
    }

    [Fact]
    public async Task Readiness_WithTemporal_IsHealthy()
    {
        await using var host = await GatewayTestHost.StartAsync(_devServer.Target);
        using var http = new HttpClient { BaseAddress = host.Address };

        using var ready = await http.GetAsync(new Uri("readyz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task CreateRun_TemporalUnreachable_Returns503AndReadinessFails()
    {
        var closedPort = ClosedLoopbackPort();
        await using var host = await GatewayTestHost.StartAsync($"127.0.0.1:{closedPort}");
        using var client = await ClientForAsync(host, "acme");

        using var created = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = "text" });
        using var ready = await client.GetAsync(new Uri("readyz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, created.StatusCode);
        Assert.Equal("application/problem+json", created.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }

    private static int ClosedLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task<HttpClient> ClientForAsync(GatewayTestHost host, string tenant) => DevTokens.ClientAsync(host.Address, tenant, "tester");
}
