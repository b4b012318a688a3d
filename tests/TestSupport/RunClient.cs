using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.TestSupport;

/// <summary>What a chat UI does: get a token, start a run over the hub, subscribe, read REST status.</summary>
public sealed class RunClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly HubConnection _hub;

    private RunClient(HttpClient http, HubConnection hub)
    {
        _http = http;
        _hub = hub;
    }

    public static async Task<RunClient> ConnectAsync(Uri gateway, string tenant)
    {
        var token = await DevTokens.IssueAsync(gateway, tenant, "e2e");
        var http = new HttpClient { BaseAddress = gateway };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(gateway, "/hubs/runs"), options => options.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        await hub.StartAsync();
        return new RunClient(http, hub);
    }

    public Task<string> StartRunAsync(string flow, string input) => _hub.InvokeAsync<string>("StartRun", flow, input);

    /// <summary>The run's events as they arrive, until the stream ends (after the terminal event).</summary>
    public async IAsyncEnumerable<RunEvent> StreamEventsAsync(string runId, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await foreach (var runEvent in _hub.StreamAsync<RunEvent>("Subscribe", runId, null, cancel.Token))
        {
            yield return runEvent;
        }
    }

    /// <summary>As <see cref="StreamEventsAsync"/>, a timed subscription: live token deltas come with the points of their path.</summary>
    public async IAsyncEnumerable<TimedRunEvent> StreamTimedEventsAsync(string runId, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await foreach (var timed in _hub.StreamAsync<TimedRunEvent>("SubscribeTimed", runId, null, cancel.Token))
        {
            yield return timed;
        }
    }

    /// <summary>Reads the run's event stream until it ends (after the terminal event).</summary>
    public async Task<List<RunEvent>> ReadAllEventsAsync(string runId, TimeSpan timeout)
    {
        var events = new List<RunEvent>();
        await foreach (var runEvent in StreamEventsAsync(runId, timeout))
        {
            events.Add(runEvent);
        }
        return events;
    }

    public async Task<JsonElement> GetRunAsync(string runId) => await _http.GetFromJsonAsync<JsonElement>($"/v1/runs/{runId}");

    /// <summary>run.completed is published just before the workflow closes: poll until REST says the run ended.</summary>
    public async Task<JsonElement> WaitForRunEndAsync(string runId)
    {
        JsonElement run = default;
        await Eventually.TrueAsync(async () =>
        {
            run = await GetRunAsync(runId);
            return run.GetProperty("status").GetString() != "running";
        }, TimeSpan.FromSeconds(60), "the run's workflow closes");
        return run;
    }

    public async ValueTask DisposeAsync()
    {
        await _hub.DisposeAsync();
        _http.Dispose();
    }
}
