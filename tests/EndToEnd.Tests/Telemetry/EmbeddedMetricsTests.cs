using System.Net.Http.Headers;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR;

namespace AgentOrchestrator.EndToEnd.Tests.Telemetry;

/// <summary>
/// The embedded host (gateway and worker in one process, in-memory bus) scraped at /metrics over real HTTP after a
/// real run: every gateway and worker metric of issue 6 is there with its labels, and moved with the activity.
/// </summary>
public sealed class EmbeddedMetricsTests
{
    [Fact]
    public async Task Metrics_AfterRunWithRetryReplayAndQuotaRejection_EveryGatewayAndWorkerSeriesMoved()
    {
        var tenant = "tenant-metrics-" + Guid.NewGuid().ToString("N")[..8];
        // The first model request fails (500). The worker's model client does not retry by itself (one request per
        // attempt), so Temporal retries the writer's activity once and the run still completes.
        var model = $"sim-1@fail-first:1:{Guid.NewGuid():N}";
        await using var deployment = await EmbeddedDeployment.StartAsync(new Dictionary<string, string>
        {
            ["Model__DefaultModel"] = model,
            [$"Tenancy__Tenants__{tenant}__RunStartsPerMinute"] = "1",
            [$"Tenancy__Tenants__{tenant}__RunStartBurst"] = "1",
        });
        await using var client = await RunClient.ConnectAsync(deployment.Gateway, tenant);

        var connected = await PrometheusScrape.ReadAsync(deployment.Gateway);
        Assert.True(connected.Sum("gateway_connections", ("tenant", tenant)) >= 1, connected.Text);

        var runId = await client.StartRunAsync(Flows.WriterReviewer, "Explain why metrics matter.");
        var events = await client.ReadAllEventsAsync(runId, TimeSpan.FromMinutes(3));
        Assert.True(events[^1].Type == RunEventTypes.RunCompleted, string.Join("\n", events.Select(e => $"{e.Type} {e.Step} {e.Attempt} {e.Text}")));
        var refused = await Assert.ThrowsAsync<HubException>(() => client.StartRunAsync(Flows.WriterReviewer, "A second run over the start rate."));
        Assert.Contains("[quota.start_rate]", refused.Message, StringComparison.Ordinal);
        await ReplayFromCursorAsync(deployment.Gateway, tenant, runId, events[1].Id);

        var scrape = await PrometheusScrape.ReadAsync(deployment.Gateway);
        var context = scrape.Text + "\n" + deployment.Output;
        // Gateway.
        Assert.True(scrape.Sum("gateway_events_delivered_total", ("transport", "signalr")) >= events.Count, context);
        Assert.True(scrape.Sum("gateway_token_latency_milliseconds_count", ("tenant", tenant)) >= 1, context);
        Assert.True(scrape.Sum("gateway_replay_requests_total", ("source", "tail")) >= 1, context);
        Assert.True(scrape.Sum("gateway_runs_started_total", ("tenant", tenant)) >= 1, context);
        Assert.True(scrape.Sum("gateway_quota_rejections_total", ("tenant", tenant), ("reason", "start_rate")) >= 1, context);
        // The subscriber's gateway read the run from its log, then took its deltas live.
        Assert.True(scrape.Sum("run_events_log_reads_total", ("reason", "load")) >= 1, context);
        Assert.True(scrape.Sum("bus_consume_lag_milliseconds_count", ("transport", "in-process")) >= 1, context);
        // Worker.
        Assert.True(scrape.Sum("worker_activity_retries_total", ("activity", "agent.run-step"), ("tenant", tenant)) >= 1, context);
        Assert.True(scrape.Sum("worker_activity_failures_total", ("activity", "agent.run-step"), ("tenant", tenant)) >= 1, context);
        Assert.Equal(2, scrape.Sum("worker_model_call_duration_milliseconds_count", ("tenant", tenant), ("model", model), ("outcome", "ok")));
        Assert.True(scrape.Sum("worker_model_call_duration_milliseconds_count", ("tenant", tenant), ("model", model), ("outcome", "error")) >= 1, context);
        Assert.True(scrape.Sum("worker_model_tokens_total", ("tenant", tenant), ("model", model), ("kind", "prompt")) > 0, context);
        Assert.True(scrape.Sum("worker_model_tokens_total", ("tenant", tenant), ("model", model), ("kind", "completion")) > 0, context);

        await client.DisposeAsync();
        await Eventually.TrueAsync(async () =>
            (await PrometheusScrape.ReadAsync(deployment.Gateway)).Sum("gateway_connections", ("tenant", tenant)) == 0,
            TimeSpan.FromSeconds(30), "the tenant's connection gauge returns to 0 after the client left");
    }

    /// <summary>Resumes over SSE with a cursor (Last-Event-ID) and reads to the end: a replay from the tail.</summary>
    private static async Task ReplayFromCursorAsync(Uri gateway, string tenant, string runId, string cursor)
    {
        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await ResumingSubscriber.DevTokenAsync(gateway, tenant));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{runId}/events");
        request.Headers.Add("Last-Event-ID", cursor);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains(RunEventTypes.RunCompleted, body, StringComparison.Ordinal);
    }
}
