using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.ModelSimulator;
using AgentOrchestrator.ServiceDefaults;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.Gateway.Tests.Delivery;

/// <summary>
/// Real runs: a dev server, the model simulator, and one process holding a gateway and an agent worker on an
/// in-memory bus (as the embedded host composes them). The process's first model request is cut after 3 deltas
/// (simulator fault "cut:3"), so the first run's writer step fails mid-stream on attempt 1 and Temporal retries it.
/// That run is streamed live from its start once, for every test of the class.
/// </summary>
public sealed class RunningGatewayFixture : IAsyncLifetime
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);
    private readonly Lazy<Task<StreamedRun>> _cutRun;
    private ModelSimulatorServer? _simulator;
    private WebApplication? _app;

    public RunningGatewayFixture() => _cutRun = new(StreamCutRunAsync);

    public DevServerFixture DevServer { get; } = new();

    public Uri Address { get; private set; } = null!;

    /// <summary>The run whose writer stream was cut on attempt 1, and every event a subscriber got live from its start.</summary>
    public Task<StreamedRun> CutRun => _cutRun.Value;

    public async Task InitializeAsync()
    {
        await DevServer.InitializeAsync();
        _simulator = await ModelSimulatorServer.StartAsync(o => o.Instant = true);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Development",
            ApplicationName = typeof(GatewayServiceCollectionExtensions).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Temporal:Target"] = DevServer.Target,
            ["Temporal:Namespace"] = DevServer.Namespace,
            ["Auth:SigningKey"] = GatewayTestHost.SigningKey,
            ["Bus:Transport"] = "InMemory",
            ["Model:Endpoint"] = new Uri(_simulator.BaseAddress, "v1").ToString(),
            ["Model:DefaultModel"] = "sim-1",
            ["Worker:HeartbeatInterval"] = "00:00:00.200",
            ["Serilog:MinimumLevel:Default"] = "Warning",
        });
        builder.AddServiceDefaults();
        builder.Services.AddMessageBus(builder.Configuration, bus => bus.AddRunGatewayConsumers(builder.Configuration));
        builder.Services.AddAgentWorker(builder.Configuration);
        builder.Services.AddRunGateway(builder.Configuration, builder.Environment);
        var firstRequest = new FirstRequestFault("cut:3");
        builder.Services.AddHttpClient(ChatModelFactory.HttpClientName).AddHttpMessageHandler(() => new FaultHeaderHandler(firstRequest));
        _app = builder.Build();
        _app.MapRunGateway();
        await _app.StartAsync();
        Address = new Uri(_app.Urls.First().TrimEnd('/') + "/");
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
        }
        await DevServer.DisposeAsync();
    }

    public static async Task<string> DevTokenAsync(Uri gateway, string tenant)
    {
        using var http = new HttpClient { BaseAddress = gateway };
        using var response = await http.PostAsJsonAsync("v1/dev/tokens", new { tenant, subject = "tester" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    public static async Task<HubConnection> HubAsync(Uri gateway, string tenant)
    {
        var token = await DevTokenAsync(gateway, tenant);
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(gateway, "hubs/runs"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        await hub.StartAsync();
        return hub;
    }

    public static async Task<List<RunEvent>> CollectAsync(HubConnection hub, string runId, string? cursor)
    {
        using var timeout = new CancellationTokenSource(RunTimeout);
        var events = new List<RunEvent>();
        await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, cursor, timeout.Token))
        {
            events.Add(runEvent);
        }
        return events;
    }

    private async Task<StreamedRun> StreamCutRunAsync()
    {
        var tenant = GatewayFixture.NewTenant();
        await using var hub = await HubAsync(Address, tenant);
        var runId = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "Survive a cut stream.");
        // Subscribing just after the start may miss nothing: the tail holds the run from its first event.
        var events = await CollectAsync(hub, runId, null);
        return new StreamedRun(tenant, runId, events);
    }

    private sealed class FirstRequestFault(string spec)
    {
        private int _requests;

        public string? Next() => Interlocked.Increment(ref _requests) == 1 ? spec : null;
    }

    private sealed class FaultHeaderHandler(FirstRequestFault fault) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (fault.Next() is { } spec)
            {
                request.Headers.Add("X-Simulator-Fault", spec);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}

public sealed record StreamedRun(string Tenant, string RunId, List<RunEvent> Events);
