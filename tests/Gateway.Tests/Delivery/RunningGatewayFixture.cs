using AgentOrchestrator.Contracts;
using AgentOrchestrator.StackSupport;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workers;
using Microsoft.AspNetCore.SignalR.Client;
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
    private readonly TaskCompletionSource _watching = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private InProcessDeployment? _deployment;

    public RunningGatewayFixture() => _cutRun = new(StreamCutRunAsync);

    public DevServerFixture DevServer => Deployment.DevServer;

    public Uri Address => Deployment.Address;

    /// <summary>The run whose writer stream was cut on attempt 1, and every event a subscriber got live from its start.</summary>
    public Task<StreamedRun> CutRun => _cutRun.Value;

    private InProcessDeployment Deployment => _deployment ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        // The cut request waits until the cut run's subscriber is watching (StreamCutRunAsync): a subscriber that came
        // later would get the run replayed without the superseded attempt, which the tests look for.
        var firstRequest = new FirstRequestFault("cut:3", _watching.Task);
        _deployment = await InProcessDeployment.StartAsync(new InProcessDeploymentOptions
        {
            SigningKey = GatewayTestHost.SigningKey,
            Settings = new Dictionary<string, string?> { ["Model:DefaultModel"] = "sim-1" },
            ConfigureServices = services => services.AddHttpClient(ChatModelFactory.HttpClientName).AddHttpMessageHandler(firstRequest.CreateHandler),
        });
    }

    public async Task DisposeAsync()
    {
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    public static Task<string> DevTokenAsync(Uri gateway, string tenant) => DevTokens.IssueAsync(gateway, tenant, "tester");

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
        using var timeout = new CancellationTokenSource(RunTimeout);
        var events = new List<RunEvent>();
        await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, null, timeout.Token))
        {
            events.Add(runEvent);
            // Watching live from here on: the model call that will be cut may go out.
            _watching.TrySetResult();
        }
        return new StreamedRun(tenant, runId, events);
    }
}

public sealed record StreamedRun(string Tenant, string RunId, List<RunEvent> Events);
