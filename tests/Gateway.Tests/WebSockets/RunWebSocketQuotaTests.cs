using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Quotas;
using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.Gateway.Tests.WebSockets;

/// <summary>The hub's quotas and credentials on /v1/ws: each refusal typed, counted, and changing nothing.</summary>
[Collection(AuthQuotaTestGroup.Name)]
public sealed class RunWebSocketQuotaTests(AuthQuotaGatewayFixture fixture)
{
    [Fact]
    public async Task Connect_OverTenantConnectionCap_Returns429BeforeTheUpgradeUntilAConnectionCloses()
    {
        var tenant = GatewayFixture.NewTenant();
        await fixture.SetQuotasAsync(tenant, new { MaxConnections = 1 });
        var token = AuthQuotaGatewayFixture.TokenFor(tenant);
        var first = await WebSocketTestClient.ConnectAsync(fixture.Host.Address, token);

        var refused = await WebSocketTestClient.RefusedWithAsync(fixture.Host.Address, token);
        await using var otherTenant = await WebSocketTestClient.ConnectAsync(fixture.Host.Address, AuthQuotaGatewayFixture.TokenFor(GatewayFixture.NewTenant()));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused);
        Assert.Equal(1, fixture.Rejections(tenant, "connections"));
        await first.CloseAsync();
        await first.DisposeAsync();
        await Eventually.TrueAsync(async () => await WebSocketTestClient.RefusedWithAsync(fixture.Host.Address, token) is null,
            because: "a closed connection frees its place");
    }

    [Fact]
    public async Task Subscribe_OverSubscriptionsPerConnection_IsRefusedUntilOneEnds()
    {
        var tenant = GatewayFixture.NewTenant();
        await fixture.SetQuotasAsync(tenant, new { MaxSubscriptionsPerConnection = 1 });
        using var client = fixture.ClientFor(tenant);
        var first = await StartRunAsync(client);
        var second = await StartRunAsync(client);
        await using var socket = await WebSocketTestClient.ConnectAsync(fixture.Host.Address, AuthQuotaGatewayFixture.TokenFor(tenant));

        await socket.SendAsync(new { type = "subscribe", requestId = "1", runId = first });
        var opened = await socket.NextAsync();
        await socket.SendAsync(new { type = "subscribe", requestId = "2", runId = second });
        var refused = await socket.NextAsync();
        await socket.SendAsync(new { type = "unsubscribe", requestId = "3", runId = first });
        var unsubscribed = await socket.NextAsync();
        await socket.SendAsync(new { type = "subscribe", requestId = "4", runId = second });
        var reopened = await socket.NextAsync();

        Assert.Equal("subscribed", WebSocketTestClient.TypeOf(opened));
        RunWebSocketTests.AssertError(refused, "quota.subscriptions", "2",
            "This connection already has 1 active subscriptions, the tenant's limit; end one (or open another connection) first.");
        Assert.Equal("unsubscribed", WebSocketTestClient.TypeOf(unsubscribed));
        Assert.Equal("subscribed", WebSocketTestClient.TypeOf(reopened));
        Assert.Equal(1, fixture.Rejections(tenant, "subscriptions"));
    }

    [Fact]
    public async Task Message_OverTenantSizeLimit_IsRefusedWithQuotaMessageSizeAndTheConnectionGoesOn()
    {
        var tenant = GatewayFixture.NewTenant();
        await fixture.SetQuotasAsync(tenant, new { MaxMessageBytes = 1024 });
        await using var socket = await WebSocketTestClient.ConnectAsync(fixture.Host.Address, AuthQuotaGatewayFixture.TokenFor(tenant));

        await socket.SendAsync(new { type = "ping", requestId = "big", cursor = new string('x', 2000) });
        var refused = await socket.NextAsync();
        await socket.SendAsync(new { type = "ping", requestId = "small" });
        var pong = await socket.NextAsync();

        RunWebSocketTests.AssertError(refused, "quota.message_size", requestId: null);
        Assert.EndsWith("the tenant's limit is 1024 bytes.", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("pong", WebSocketTestClient.TypeOf(pong));
        Assert.Equal(1, fixture.Rejections(tenant, "message_size"));
    }

    [Fact]
    public async Task Connect_WithApiKeyHeader_SubscribesInTheKeysTenant()
    {
        using var client = new HttpClient { BaseAddress = fixture.Host.Address };
        client.DefaultRequestHeaders.Add(ApiKeyDefaults.HeaderName, AuthQuotaGatewayFixture.ApiKeyA);
        var runId = await StartRunAsync(client);
        await using var socket = await WebSocketTestClient.ConnectAsync(fixture.Host.Address, token: null,
            options => options.SetRequestHeader(ApiKeyDefaults.HeaderName, AuthQuotaGatewayFixture.ApiKeyA));
        var wrongKey = await WebSocketTestClient.RefusedWithAsync(fixture.Host.Address, token: null,
            options => options.SetRequestHeader(ApiKeyDefaults.HeaderName, "not-a-configured-key-0123456789"));
        var otherTenant = await WebSocketTestClient.RefusedWithAsync(fixture.Host.Address, token: null,
            options => options.SetRequestHeader(ApiKeyDefaults.HeaderName, AuthQuotaGatewayFixture.ApiKeyB));

        await socket.SendAsync(new { type = "subscribe", requestId = "1", runId });

        Assert.Equal("subscribed", WebSocketTestClient.TypeOf(await socket.NextAsync()));
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey);
        Assert.Null(otherTenant);
    }

    [Fact]
    public async Task Connect_OverNodeAdmissionRate_Returns503WithRetryAfterBeforeTheUpgrade()
    {
        await using var host = await GatewayTestHost.StartAsync(fixture.DevServer.Target, settings: new Dictionary<string, string?>
        {
            ["Quotas:Node:ConnectionsPerSecond"] = "0.0166",
            ["Quotas:Node:ConnectionBurst"] = "1",
        });
        using var rejections = CounterRecorder.Start(host.Services.GetRequiredService<IMeterFactory>(), QuotaMetrics.RejectionsCounter);
        var token = AuthQuotaGatewayFixture.TokenFor(GatewayFixture.NewTenant());
        await using var admitted = await WebSocketTestClient.ConnectAsync(host.Address, token);

        var refused = await WebSocketTestClient.RefusedWithAsync(host.Address, token);
        using var plain = new HttpClient { BaseAddress = host.Address };
        using var upgrade = new HttpRequestMessage(HttpMethod.Get, new Uri("v1/ws", UriKind.Relative));
        upgrade.Headers.Add("Upgrade", "websocket");
        upgrade.Headers.Add("Connection", "Upgrade");
        using var answered = await plain.SendAsync(upgrade);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answered.StatusCode);
        Assert.Equal("admission", (await answered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.InRange(answered.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 61);
        Assert.Equal(2, rejections.Measurements.Count(r => r.Tag("tenant") == QuotaMetrics.UnknownTenant && r.Tag("reason") == "admission"));
    }

    private static async Task<string> StartRunAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("v1/runs", new { flow = Contracts.Flows.WriterReviewer, input = "quota" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
    }
}
