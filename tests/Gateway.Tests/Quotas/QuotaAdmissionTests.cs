using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Quotas;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.Tests.Quotas;

/// <summary>The node's connection admission rate, on a gateway of its own (it applies to every tenant of the node).</summary>
[Collection(AuthQuotaTestGroup.Name)]
public sealed class QuotaAdmissionTests(AuthQuotaGatewayFixture fixture)
{
    [Fact]
    public async Task Connect_OverNodeAdmissionRate_Returns503WithRetryAfterAndIsCounted()
    {
        // Two connections at once, then one a minute: the test cannot outlast the refill.
        await using var host = await GatewayTestHost.StartAsync(fixture.DevServer.Target, settings: new Dictionary<string, string?>
        {
            ["Quotas:Node:ConnectionsPerSecond"] = "0.0166",
            ["Quotas:Node:ConnectionBurst"] = "2",
        });
        using var rejections = CounterRecorder.Start(host.Services.GetRequiredService<IMeterFactory>(), QuotaMetrics.RejectionsCounter);
        var tenant = GatewayFixture.NewTenant();
        using var client = new HttpClient { BaseAddress = host.Address };
        client.DefaultRequestHeaders.Authorization = new("Bearer", AuthQuotaGatewayFixture.TokenFor(tenant));
        var hubUrl = new Uri(host.Address, "hubs/runs");

        using var negotiated = await client.PostAsync(new Uri("hubs/runs/negotiate?negotiateVersion=1", UriKind.Relative), null);
        await using var connected = new HubConnectionBuilder()
            .WithUrl(hubUrl, options => options.AccessTokenProvider = () => Task.FromResult<string?>(AuthQuotaGatewayFixture.TokenFor(tenant)))
            .Build();
        await connected.StartAsync(); // negotiate (charged) + WebSocket with the negotiated id (not charged again)
        using var refusedNegotiate = await client.PostAsync(new Uri("hubs/runs/negotiate?negotiateVersion=1", UriKind.Relative), null);
        await using var refusedSkipNegotiation = new HubConnectionBuilder()
            .WithUrl(hubUrl, Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets, options =>
            {
                options.SkipNegotiation = true;
                options.AccessTokenProvider = () => Task.FromResult<string?>(AuthQuotaGatewayFixture.TokenFor(tenant));
            })
            .Build();
        var webSocketError = await Record.ExceptionAsync(() => refusedSkipNegotiation.StartAsync());
        using var rest = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = "not a connection" });

        Assert.Equal(HttpStatusCode.OK, negotiated.StatusCode);
        Assert.Equal(HubConnectionState.Connected, connected.State);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refusedNegotiate.StatusCode);
        Assert.Equal("application/problem+json", refusedNegotiate.Content.Headers.ContentType?.MediaType);
        var problem = await refusedNegotiate.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("admission", problem.GetProperty("code").GetString());
        var retryAfter = problem.GetProperty("retryAfterSeconds").GetInt32();
        Assert.InRange(retryAfter, 1, 61);
        Assert.Equal(TimeSpan.FromSeconds(retryAfter), refusedNegotiate.Headers.RetryAfter?.Delta);
        Assert.NotNull(webSocketError); // the WebSocket upgrade is answered 503 instead of 101
        Assert.Equal(HubConnectionState.Disconnected, refusedSkipNegotiation.State);
        Assert.Equal(HttpStatusCode.Created, rest.StatusCode); // other requests are not connection admissions
        Assert.Equal(2, rejections.Measurements.Count(r => r.Tag("tenant") == QuotaMetrics.UnknownTenant && r.Tag("reason") == "admission"));
    }

    [Fact]
    public async Task Start_InvalidQuotaConfiguration_FailsWithTheReason()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayTestHost.StartAsync(fixture.DevServer.Target,
            settings: new Dictionary<string, string?> { ["Tenancy:Tenants:acme:MaxConcurrentRuns"] = "0" }));

        Assert.Contains("Tenancy:Tenants:acme:MaxConcurrentRuns must be positive", error.Message, StringComparison.Ordinal);
    }
}
