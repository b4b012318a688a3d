using System.Collections.Concurrent;
using System.Net.Http.Headers;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// The embedded mode with a slow default model (so a run is still streaming when a test cancels it), instant thread
/// turns, and threads that continue as new every <see cref="TurnsPerRun"/> turns.
/// </summary>
public sealed class InteractionDeployment : IAsyncLifetime
{
    public const int TurnsPerRun = 2;
    public const string ThreadModel = "sim-1@instant";

    private EmbeddedDeployment? _deployment;

    public EmbeddedDeployment Deployment => _deployment ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _deployment = await EmbeddedDeployment.StartAsync(new Dictionary<string, string>
    {
        ["Model__DefaultModel"] = "sim-1@trickle:60",
        ["Gateway__Threads__TurnsPerRun"] = TurnsPerRun.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gateway__Threads__Model"] = ThreadModel,
    });

    public async Task DisposeAsync()
    {
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    /// <summary>An authenticated REST client and hub connection of one tenant.</summary>
    public async Task<(HttpClient Http, HubConnection Hub)> ConnectAsync(string tenant)
    {
        var token = await DevTokens.IssueAsync(Deployment.Gateway, tenant, "e2e");
        var http = new HttpClient { BaseAddress = Deployment.Gateway, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(Deployment.Gateway, "/hubs/runs"), options => options.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        await hub.StartAsync();
        return (http, hub);
    }

    /// <summary>Collects a run's (or thread's) events in the background until its stream ends.</summary>
    public static (ConcurrentQueue<RunEvent> Events, Task Done) Follow(HubConnection hub, string runId)
    {
        var events = new ConcurrentQueue<RunEvent>();
        var done = Task.Run(async () =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, null, timeout.Token))
            {
                events.Enqueue(runEvent);
            }
        });
        return (events, done);
    }
}
