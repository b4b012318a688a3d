using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>What a chat UI does: get a token, start a run over the hub, subscribe, read REST status.</summary>
internal sealed class RunClient : IAsyncDisposable
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
        var http = new HttpClient { BaseAddress = gateway };
        using var tokenResponse = await http.PostAsJsonAsync("/v1/dev/tokens", new { tenant, subject = "e2e" });
        tokenResponse.EnsureSuccessStatusCode();
        var token = (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(gateway, "/hubs/runs"), options => options.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        await hub.StartAsync();
        return new RunClient(http, hub);
    }

    public Task<string> StartRunAsync(string flow, string input) => _hub.InvokeAsync<string>("StartRun", flow, input);

    /// <summary>Reads the run's event stream until it ends (after the terminal event).</summary>
    public async Task<List<RunEvent>> ReadAllEventsAsync(string runId, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var events = new List<RunEvent>();
        await foreach (var runEvent in _hub.StreamAsync<RunEvent>("Subscribe", runId, null, cancel.Token))
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
        await TestSupport.Eventually.TrueAsync(async () =>
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

internal static class RunAssertions
{
    /// <summary>
    /// The full path worked: both steps streamed their tokens in order (indices 0..n-1 of one attempt),
    /// each step's deltas add up to its completed text, the run completed last, and the reviewer's
    /// text is the run's result.
    /// </summary>
    public static void CompletedWithStreamedSteps(List<RunEvent> events, string result)
    {
        var sequence = string.Join(", ", events.Select(e => $"{e.Type}:{e.Step}:{e.Attempt}:{e.Index}"));
        Assert.True(events[0].Type == RunEventTypes.RunStarted, "first event is not run.started: " + sequence);
        Assert.Equal(RunEventTypes.RunCompleted, events[^1].Type);
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        foreach (var step in new[] { "writer", "reviewer" })
        {
            var stepEvents = events.Where(e => e.Step == step).ToList();
            var completed = Assert.Single(stepEvents, e => e.Type == RunEventTypes.StepCompleted);
            var tokens = stepEvents.Where(e => e.Type == RunEventTypes.Token && e.Attempt == completed.Attempt).ToList();
            Assert.True(tokens.Count >= 1, $"{step} streamed no tokens");
            Assert.Equal(Enumerable.Range(0, tokens.Count).Select(i => (long)i), tokens.Select(t => t.Index));
            Assert.Equal(completed.Text, string.Concat(tokens.Select(t => t.Text)));
            Assert.True(events.IndexOf(tokens[^1]) < events.IndexOf(completed), $"{step} completed before its last token");
        }
        var writerDone = events.FindIndex(e => e.Step == "writer" && e.Type == RunEventTypes.StepCompleted);
        var reviewerStart = events.FindIndex(e => e.Step == "reviewer" && e.Type == RunEventTypes.StepStarted);
        Assert.True(writerDone < reviewerStart, "the reviewer started before the writer finished");
        var reviewerText = string.Concat(events.Where(e => e.Step == "reviewer" && e.Type == RunEventTypes.Token).Select(e => e.Text));
        Assert.Equal(result, reviewerText);
    }
}
