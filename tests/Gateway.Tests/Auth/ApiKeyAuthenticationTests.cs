using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Auth;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.Tests.Auth;

[Collection(AuthQuotaTestGroup.Name)]
public sealed class ApiKeyAuthenticationTests(AuthQuotaGatewayFixture fixture)
{
    [Fact]
    public async Task CreateRun_ValidApiKey_StartsRunOfTheKeysTenant()
    {
        var before = await fixture.CountWorkflowsAsync(fixture.TenantA);
        using var client = ApiKeyClient(AuthQuotaGatewayFixture.ApiKeyA);

        using var created = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = "from a service" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var runId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;

        Assert.Equal(before + 1, await fixture.CountWorkflowsAsync(fixture.TenantA));
        var description = await fixture.Temporal.GetWorkflowHandle(RunWorkflowIds.For(fixture.TenantA, runId)).DescribeAsync();
        Assert.Equal(runId, description.Id.Split('/')[^1]);
        using var read = await client.GetAsync(new Uri($"v1/runs/{runId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task Hub_ValidApiKeyHeader_StartsRunOfTheKeysTenant()
    {
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(fixture.Host.Address, "hubs/runs"), options => options.Headers[ApiKeyDefaults.HeaderName] = AuthQuotaGatewayFixture.ApiKeyB)
            .Build();
        await hub.StartAsync();

        var runId = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "from a service over the hub");

        var description = await fixture.Temporal.GetWorkflowHandle(RunWorkflowIds.For(fixture.TenantB, runId)).DescribeAsync();
        Assert.Equal(Flows.WriterReviewer, description.WorkflowType);
    }

    public static TheoryData<string> UnknownKeys() => new()
    {
        "not-a-configured-key",
        AuthQuotaGatewayFixture.ApiKeyA + "x",
        AuthQuotaGatewayFixture.ApiKeyA.ToUpperInvariant(),
        ApiKeyDefaults.HashOf(AuthQuotaGatewayFixture.ApiKeyA), // the configured hash is not a key
    };

    [Theory]
    [MemberData(nameof(UnknownKeys))]
    public async Task UnknownApiKey_RestAndHubNegotiate_Return401AndStartNothing(string key)
    {
        var before = await fixture.CountWorkflowsAsync(fixture.TenantA);
        using var client = ApiKeyClient(key);

        using var created = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = "hi" });
        using var read = await client.GetAsync(new Uri("v1/runs/abc", UriKind.Relative));
        using var negotiate = await client.PostAsync(new Uri("hubs/runs/negotiate?negotiateVersion=1", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Unauthorized, created.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, read.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, negotiate.StatusCode);
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(fixture.Host.Address, "hubs/runs"), options => options.Headers[ApiKeyDefaults.HeaderName] = key)
            .Build();
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => hub.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal(before, await fixture.CountWorkflowsAsync(fixture.TenantA));
    }

    public static TheoryData<string> BadTokens() => new()
    {
        "not-a-jwt",
        GatewayFixture.SignToken("acme", DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1), key: "forged-with-another-key-0123456789abcdef"),
        GatewayFixture.SignToken("acme", DateTime.UtcNow.AddHours(-3), DateTime.UtcNow.AddHours(-1)),
        GatewayFixture.SignToken(null, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1)),
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task HubNegotiate_ForgedExpiredOrTenantlessToken_Returns401(string token)
    {
        using var header = new HttpRequestMessage(HttpMethod.Post, "hubs/runs/negotiate?negotiateVersion=1");
        header.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var byHeader = await fixture.Http.SendAsync(header);
        using var byQuery = await fixture.Http.PostAsync(
            new Uri($"hubs/runs/negotiate?negotiateVersion=1&access_token={Uri.EscapeDataString(token)}", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Unauthorized, byHeader.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, byQuery.StatusCode);
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(fixture.Host.Address, "hubs/runs"), options => options.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => hub.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
    }

    [Fact]
    public async Task CreateRun_TokenAndApiKeyOfDifferentTenants_Returns403AndStartsNothing()
    {
        var tenant = GatewayFixture.NewTenant();
        var before = await fixture.CountWorkflowsAsync(fixture.TenantA);
        using var client = fixture.ClientFor(tenant);
        client.DefaultRequestHeaders.Add(ApiKeyDefaults.HeaderName, AuthQuotaGatewayFixture.ApiKeyA);

        using var created = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = "hi" });

        Assert.Equal(HttpStatusCode.Forbidden, created.StatusCode);
        Assert.Equal(0, await fixture.CountWorkflowsAsync(tenant));
        Assert.Equal(before, await fixture.CountWorkflowsAsync(fixture.TenantA));
    }

    [Theory]
    [InlineData("Hash", "the-plain-key-instead-of-its-hash", "Auth:ApiKeys:0:Hash")]
    [InlineData("Tenant", "bad/tenant", "Auth:ApiKeys:0:Tenant")]
    [InlineData("Subject", "", "Auth:ApiKeys:0:Subject")]
    public async Task Start_InvalidApiKeyConfiguration_FailsValidation(string field, string value, string reported)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0:Id"] = "svc",
            ["Auth:ApiKeys:0:Hash"] = ApiKeyDefaults.HashOf("k"),
            ["Auth:ApiKeys:0:Tenant"] = "acme",
            ["Auth:ApiKeys:0:Subject"] = "svc",
        };
        settings[$"Auth:ApiKeys:0:{field}"] = value;

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            GatewayTestHost.StartAsync(fixture.DevServer.Target, environment: "Production", settings: settings));

        Assert.Contains(reported, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DevTokensInProductionWithoutEmbeddedMode_RefusesToStart()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            GatewayTestHost.StartAsync(fixture.DevServer.Target, environment: "Production",
                settings: new Dictionary<string, string?> { ["Auth:DevTokens"] = "true" }));

        Assert.Contains("Auth:DevTokens=true is refused in the 'Production' environment", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DevTokensInProductionDeclaredEmbedded_IssuesTokens()
    {
        await using var host = await GatewayTestHost.StartAsync(fixture.DevServer.Target, environment: "Production",
            settings: new Dictionary<string, string?> { ["Auth:DevTokens"] = "true" }, configure: (_, gateway) => gateway.UseEmbeddedMode());
        using var http = new HttpClient { BaseAddress = host.Address };

        using var response = await http.PostAsJsonAsync("v1/dev/tokens", new { tenant = "acme", subject = "x" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private HttpClient ApiKeyClient(string key)
    {
        var client = new HttpClient { BaseAddress = fixture.Host.Address };
        client.DefaultRequestHeaders.Add(ApiKeyDefaults.HeaderName, key);
        return client;
    }
}
