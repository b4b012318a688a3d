using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentOrchestrator.Gateway.Tests.Auth;

[Collection(GatewayTestGroup.Name)]
public sealed class AuthenticationTests(GatewayFixture fixture)
{
    [Fact]
    public async Task CreateRun_WithoutToken_Returns401()
    {
        using var response = await fixture.Http.PostAsJsonAsync("v1/runs", new { flow = "writer-reviewer", input = "hi" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task GetRun_WithoutToken_Returns401()
    {
        using var response = await fixture.Http.GetAsync(new Uri("v1/runs/abc", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    public static TheoryData<string> BadTokens() => new()
    {
        "not-a-jwt",
        GatewayFixture.SignToken("acme", DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1), key: "some-other-key-that-is-long-enough-0123456789"),
        GatewayFixture.SignToken("acme", DateTime.UtcNow.AddHours(-3), DateTime.UtcNow.AddHours(-1)),
        GatewayFixture.SignToken(null, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1)),
        GatewayFixture.SignToken("bad/tenant", DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1)),
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task CreateRun_InvalidWrongKeyExpiredOrTenantlessToken_Returns401AndStartsNothing(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/runs") { Content = JsonContent.Create(new { flow = "writer-reviewer", input = "hi" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await fixture.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task CreateRun_SelfSignedValidToken_IsAccepted()
    {
        var tenant = GatewayFixture.NewTenant();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/runs") { Content = JsonContent.Create(new { flow = "writer-reviewer", input = "hi" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer",
            GatewayFixture.SignToken(tenant, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1)));
        using var response = await fixture.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task DevTokens_Development_IssueTokenCarryingTenant()
    {
        var tenant = GatewayFixture.NewTenant();
        using var client = await fixture.ClientForAsync(tenant);
        using var response = await client.PostAsJsonAsync("v1/runs", new { flow = "writer-reviewer", input = "hello" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(1, await fixture.CountWorkflowsAsync(tenant));
    }

    [Theory]
    [InlineData("{\"tenant\":\"\",\"subject\":\"x\"}")]
    [InlineData("{\"tenant\":\"a/b\",\"subject\":\"x\"}")]
    [InlineData("{\"tenant\":\"acme\"}")]
    [InlineData("{\"tenant\":")]
    public async Task DevTokens_InvalidRequest_Returns400ProblemDetails(string body)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await fixture.Http.PostAsync(new Uri("v1/dev/tokens", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task DevTokens_Disabled_Returns404()
    {
        await using var host = await GatewayTestHost.StartAsync(fixture.DevServer.Target, environment: "Production");
        using var http = new HttpClient { BaseAddress = host.Address };
        using var response = await http.PostAsJsonAsync("v1/dev/tokens", new { tenant = "acme", subject = "x" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        // The configured key still authenticates tokens from elsewhere.
        var tenant = GatewayFixture.NewTenant();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            GatewayFixture.SignToken(tenant, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1)));
        using var created = await http.PostAsJsonAsync("v1/runs", new { flow = "writer-reviewer", input = "hi" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task Start_ProductionWithoutKeyOrAuthority_FailsValidation()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            GatewayTestHost.StartAsync(fixture.DevServer.Target, environment: "Production",
                settings: new Dictionary<string, string?> { ["Auth:SigningKey"] = "" }));
        Assert.Contains("Auth:SigningKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DevTokens_ExplicitlyDisabledInDevelopment_Returns404()
    {
        await using var host = await GatewayTestHost.StartAsync(fixture.DevServer.Target,
            settings: new Dictionary<string, string?> { ["Auth:DevTokens"] = "false" });
        using var http = new HttpClient { BaseAddress = host.Address };
        using var response = await http.PostAsJsonAsync("v1/dev/tokens", new { tenant = "acme", subject = "x" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task DevTokens_EnabledWithoutConfiguredKey_UseAGeneratedKey()
    {
        await using var host = await GatewayTestHost.StartAsync(fixture.DevServer.Target, environment: "Production",
            settings: new Dictionary<string, string?> { ["Auth:DevTokens"] = "true", ["Auth:SigningKey"] = "" },
            configure: (_, gateway) => gateway.UseEmbeddedMode());
        using var http = new HttpClient { BaseAddress = host.Address };
        using var tokenResponse = await http.PostAsJsonAsync("v1/dev/tokens", new { tenant = "acme", subject = "x" });
        tokenResponse.EnsureSuccessStatusCode();
        var token = JsonDocument.Parse(await tokenResponse.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString();

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var missing = await http.GetAsync(new Uri("v1/runs/nope", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // A token signed with the well-known test key is not accepted by this process's generated key.
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            GatewayFixture.SignToken("acme", DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1)));
        using var rejected = await http.GetAsync(new Uri("v1/runs/nope", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);
    }
}
