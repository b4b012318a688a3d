using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// support-triage's human approval through the embedded gateway: the reviewer sees input.requested (prompt and schema)
/// on the run's stream and answers over REST or the hub; a wrong answer is refused and the run keeps waiting.
/// </summary>
public sealed class SupportTriageEmbeddedTests(InteractionDeployment fixture) : IClassFixture<InteractionDeployment>
{
    private const string Tenant = "tenant-triage";

    [Fact]
    public async Task ProvideInput_ReviewerApprovesOverRest_WrongSchemaRefusedThenRunCompletesWithSpecialistReply()
    {
        var (http, hub) = await fixture.ConnectAsync(Tenant);
        using var httpScope = http;
        await using var hubScope = hub;
        var runId = await hub.InvokeAsync<string>("StartRun", Flows.SupportTriage,
            "The app crashes on start. [[call:Flow-handoff {\"agent\":\"technical\"}]]");
        var (events, streamEnded) = InteractionDeployment.Follow(hub, runId);
        var requested = await InputRequestedAsync(events, "approval");
        var reply = StepText(events, "technical");
        Assert.Contains(reply, requested.Prompt, StringComparison.Ordinal);
        Assert.Equal("boolean", requested.Schema.GetProperty("properties").GetProperty("approved").GetProperty("type").GetString());
        Assert.Equal("approved", Assert.Single(requested.Schema.GetProperty("required").EnumerateArray()).GetString());
        Assert.True(requested.TimeoutSeconds > 0);

        using (var wrong = await http.PostAsJsonAsync($"/v1/runs/{runId}/input", new { requestId = "approval", answer = new { approved = "yes" } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            var problem = await wrong.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("invalid_input", problem.GetProperty("code").GetString());
            Assert.Contains("approved", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal("running", (await http.GetFromJsonAsync<JsonElement>($"/v1/runs/{runId}")).GetProperty("status").GetString());
        Assert.False(streamEnded.IsCompleted);

        using (var approved = await http.PostAsJsonAsync($"/v1/runs/{runId}/input", new { requestId = "approval", answer = new { approved = true } }))
        {
            Assert.Equal(HttpStatusCode.Accepted, approved.StatusCode);
        }
        await streamEnded.WaitAsync(TimeSpan.FromMinutes(2));
        var all = events.ToList();
        Assert.Equal(RunEventTypes.RunCompleted, all[^1].Type);
        Assert.Equal(reply, all[^1].Text);
        Assert.Single(all, e => e.Type == RunEventTypes.InputRequested);
        Assert.DoesNotContain(all, e => e.Step is "technical.2" or "billing" or "account");
        var run = await WaitForEndAsync(http, runId);
        Assert.Equal(("completed", reply), (run.GetProperty("status").GetString(), run.GetProperty("result").GetString()));
    }

    [Fact]
    public async Task ProvideInput_ReviewerRejectsOverHub_SpecialistRevisesAndApprovedRevisionIsResult()
    {
        var (http, hub) = await fixture.ConnectAsync(Tenant);
        using var httpScope = http;
        await using var hubScope = hub;
        var runId = await hub.InvokeAsync<string>("StartRun", Flows.SupportTriage,
            "I was charged twice. [[call:Flow-handoff {\"agent\":\"billing\"}]]");
        var (events, streamEnded) = InteractionDeployment.Follow(hub, runId);
        await InputRequestedAsync(events, "approval");

        var unknown = await Assert.ThrowsAsync<HubException>(() =>
            hub.InvokeAsync("ProvideInput", runId, "approval.9", "{\"approved\":true}"));
        // The embedded (Development) gateway sends detailed hub errors: the code is inside the message.
        Assert.Contains("[invalid_input] No input request 'approval.9'", unknown.Message, StringComparison.Ordinal);
        await hub.InvokeAsync("ProvideInput", runId, "approval", "{\"approved\":false,\"note\":\"Say when the refund arrives.\"}");
        var second = await InputRequestedAsync(events, "approval.2");
        var revised = StepText(events, "billing.2");
        Assert.Contains(revised, second.Prompt, StringComparison.Ordinal);
        await hub.InvokeAsync("ProvideInput", runId, "approval.2", "{\"approved\":true}");

        await streamEnded.WaitAsync(TimeSpan.FromMinutes(2));
        var all = events.ToList();
        Assert.Equal(RunEventTypes.RunCompleted, all[^1].Type);
        Assert.Equal(revised, all[^1].Text);
        Assert.NotEqual(revised, StepText(events, "billing"));
    }

    private static async Task<InputRequestedData> InputRequestedAsync(IEnumerable<RunEvent> events, string requestId)
    {
        RunEvent? requested = null;
        await Eventually.TrueAsync(
            () => (requested = events.FirstOrDefault(e => e.Type == RunEventTypes.InputRequested && e.Step == requestId)) is not null,
            TimeSpan.FromMinutes(2), $"input.requested for {requestId} arrives on the stream");
        return requested!.Data!.Value.Deserialize<InputRequestedData>(JsonSerializerOptions.Web)!;
    }

    // step.completed carries the step's whole text.
    private static string StepText(IEnumerable<RunEvent> events, string step) =>
        events.Single(e => e.Step == step && e.Type == RunEventTypes.StepCompleted).Text!;

    private static async Task<JsonElement> WaitForEndAsync(HttpClient http, string runId)
    {
        JsonElement run = default;
        await Eventually.TrueAsync(async () =>
        {
            run = await http.GetFromJsonAsync<JsonElement>($"/v1/runs/{runId}");
            return run.GetProperty("status").GetString() != "running";
        }, TimeSpan.FromMinutes(1), "the run's workflow closes");
        return run;
    }
}
