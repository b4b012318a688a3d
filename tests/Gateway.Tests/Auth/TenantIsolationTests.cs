using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Runs;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.Gateway.Tests.Auth;

/// <summary>Another tenant's run must be indistinguishable from a run that does not exist, whatever the credential.</summary>
[Collection(AuthQuotaTestGroup.Name)]
public sealed class TenantIsolationTests(AuthQuotaGatewayFixture fixture)
{
    [Fact]
    public async Task GetRun_OtherTenantsRun_AnswersExactlyLikeAnUnknownRun()
    {
        using var owner = fixture.ClientFor(fixture.TenantA);
        var runId = await StartAsync(owner);
        using var otherByToken = fixture.ClientFor(GatewayFixture.NewTenant());
        using var otherByKey = new HttpClient { BaseAddress = fixture.Host.Address };
        otherByKey.DefaultRequestHeaders.Add(ApiKeyDefaults.HeaderName, AuthQuotaGatewayFixture.ApiKeyB);

        foreach (var other in new[] { otherByToken, otherByKey })
        {
            var foreign = await ReadAsync(other, runId);
            var unknown = await ReadAsync(other, RunService.NewRunId());

            Assert.Equal(HttpStatusCode.NotFound, foreign.Status);
            Assert.Equal(unknown.Status, foreign.Status);
            Assert.Equal(unknown.ContentType, foreign.ContentType);
            Assert.Equal(unknown.Body, foreign.Body);
        }
        using var own = await owner.GetAsync(new Uri($"v1/runs/{runId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Fact]
    public async Task Subscribe_OtherTenantsRun_FailsExactlyLikeAnUnknownRun()
    {
        using var owner = fixture.ClientFor(fixture.TenantA);
        var runId = await StartAsync(owner);
        await using var other = await fixture.ConnectedHubForAsync(GatewayFixture.NewTenant());

        var foreign = await Assert.ThrowsAsync<HubException>(() => FirstAsync(other, runId));
        var unknown = await Assert.ThrowsAsync<HubException>(() => FirstAsync(other, RunService.NewRunId()));

        Assert.Equal(unknown.Message, foreign.Message);
    }

    private static async Task<string> StartAsync(HttpClient client)
    {
        using var created = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = "private" });
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
    }

    /// <summary>Status, media type and body; the per-request traceId is checked present and then set aside.</summary>
    private static async Task<(HttpStatusCode Status, string? ContentType, string Body)> ReadAsync(HttpClient client, string runId)
    {
        using var response = await client.GetAsync(new Uri($"v1/runs/{runId}", UriKind.Relative));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.True(body.Remove("traceId"), "problem details carry a traceId");
        return (response.StatusCode, response.Content.Headers.ContentType?.ToString(), body.ToJsonString());
    }

    private static async Task FirstAsync(HubConnection hub, string runId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var _ in hub.StreamAsync<RunEvent>("Subscribe", runId, null, timeout.Token))
        {
            return;
        }
    }
}
