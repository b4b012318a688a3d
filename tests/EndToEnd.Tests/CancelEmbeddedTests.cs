using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Xunit.Abstractions;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>POST /v1/runs/{runId}/cancel against the whole embedded system, timed by the model simulator.</summary>
public sealed class CancelEmbeddedTests(InteractionDeployment fixture, ITestOutputHelper output) : IClassFixture<InteractionDeployment>
{
    private static readonly TimeSpan StreamStopBudget = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Cancel_WhileReviewerStreams_ModelStreamClosedWithinOneSecondAndWriterStaysInHistory()
    {
        const string tenant = "tenant-cancel";
        var (http, hub) = await fixture.ConnectAsync(tenant);
        using var httpScope = http;
        await using var hubScope = hub;
        var runId = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "Explain cancellation in one paragraph.");
        var (events, streamEnded) = InteractionDeployment.Follow(hub, runId);
        await Eventually.TrueAsync(() => events.Any(e => e.Step == "reviewer" && e.Type == RunEventTypes.Token),
            TimeSpan.FromMinutes(2), "the reviewer streams (the writer has completed)");
        var before = await StatsAsync(http);

        var requestedAtUs = NowUs();
        using (var response = await http.PostAsync(new Uri($"/v1/runs/{runId}/cancel", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        // The simulator stamps the moment it sees the client go away: the stream's stop as the server observed it.
        JsonElement after = default;
        await Eventually.TrueAsync(async () =>
        {
            after = await StatsAsync(http);
            return after.GetProperty("canceledStreams").GetInt64() > before.GetProperty("canceledStreams").GetInt64();
        }, because: "the simulator sees the reviewer's model stream closed");
        var stoppedAfter = TimeSpan.FromMicroseconds(after.GetProperty("lastCanceledStreamAtUs").GetInt64() - requestedAtUs);
        output.WriteLine($"model stream closed {stoppedAfter.TotalMilliseconds:F0} ms after the cancel request");
        Assert.True(stoppedAfter >= TimeSpan.Zero && stoppedAfter <= StreamStopBudget,
            $"the model stream closed {stoppedAfter.TotalMilliseconds:F0} ms after the cancel request (budget {StreamStopBudget.TotalMilliseconds} ms)");

        await streamEnded.WaitAsync(TimeSpan.FromMinutes(1));
        var all = events.ToList();
        Assert.Equal(RunEventTypes.RunCanceled, all[^1].Type);
        var writerDone = Assert.Single(all, e => e.Step == "writer" && e.Type == RunEventTypes.StepCompleted);
        Assert.DoesNotContain(all, e => e.Step == "reviewer" && e.Type == RunEventTypes.StepCompleted);
        Assert.DoesNotContain(all, e => e.Type is RunEventTypes.RunCompleted or RunEventTypes.RunFailed);
        // run.canceled is published just before the workflow closes.
        string? status = null;
        await Eventually.TrueAsync(async () =>
        {
            status = (await http.GetFromJsonAsync<JsonElement>($"/v1/runs/{runId}")).GetProperty("status").GetString();
            return status != "running";
        }, because: "the run's workflow closes");
        Assert.Equal("canceled", status);

        // Completed steps stay in the run's durable history: the writer's result is there, the reviewer was canceled.
        var temporal = await TemporalClient.ConnectAsync(new TemporalClientConnectOptions(fixture.Deployment.TemporalTarget));
        var history = await temporal.GetWorkflowHandle(RunWorkflowIds.For(tenant, runId)).FetchHistoryAsync();
        var completedTexts = history.Events.Where(e => e.EventType == EventType.ActivityTaskCompleted)
            .Select(e => e.ActivityTaskCompletedEventAttributes.Result?.Payloads_.FirstOrDefault())
            .Where(p => p is not null)
            .Select(p => JsonDocument.Parse(Encoding.UTF8.GetString(p!.Data.Span)).RootElement)
            .Where(r => r.ValueKind == JsonValueKind.Object && r.TryGetProperty("Text", out _))
            .Select(r => r.GetProperty("Text").GetString())
            .ToList();
        Assert.Equal([writerDone.Text], completedTexts);
        Assert.Contains(history.Events, e => e.EventType == EventType.ActivityTaskCancelRequested);
        Assert.Equal(EventType.WorkflowExecutionCanceled, history.Events.Last().EventType);

        await InteractionAssertions.ProblemAsync(await http.PostAsync(new Uri($"/v1/runs/{runId}/cancel", UriKind.Relative), null),
            HttpStatusCode.Conflict, "run_finished");
    }

    private static long NowUs() => (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks / 10;

    private static async Task<JsonElement> StatsAsync(HttpClient http) =>
        await http.GetFromJsonAsync<JsonElement>("/v1/sim/stats");
}

internal static class InteractionAssertions
{
    public static async Task ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(code, problem.GetProperty("code").GetString());
        }
    }
}
