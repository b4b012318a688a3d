using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Admin;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.Gateway.Tests.Admin;

/// <summary>
/// The tenant admin API on a real gateway (Kestrel, its own dev server, no worker: started runs stay running), with
/// the in-memory override store: auth, validation, changes enforced at once, usage next to the plan.
/// </summary>
[Collection(AuthQuotaTestGroup.Name)]
public sealed class TenantAdminTests(AuthQuotaGatewayFixture fixture)
{
    [Fact]
    public async Task AdminEndpoints_WithoutCredentials_Return401()
    {
        using var anonymous = new TenantAdminClient(new HttpClient { BaseAddress = fixture.Host.Address });
        var tenant = GatewayFixture.NewTenant();

        using var list = await anonymous.ListTenantsAsync();
        using var put = await anonymous.PutPolicyAsync(tenant, new { maxConcurrentRuns = 1 });

        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, put.StatusCode);
        Assert.Null(await OverrideOfAsync(tenant));
    }

    [Fact]
    public async Task AdminEndpoints_WithoutAdminScope_Return403ForbiddenAndChangeNothing()
    {
        var tenant = GatewayFixture.NewTenant();
        using var bearer = new TenantAdminClient(fixture.ClientFor(tenant));
        var keyClient = new HttpClient { BaseAddress = fixture.Host.Address };
        keyClient.DefaultRequestHeaders.Add(ApiKeyDefaults.HeaderName, AuthQuotaGatewayFixture.ApiKeyB);
        using var apiKeyWithOtherScope = new TenantAdminClient(keyClient);

        using var bearerPut = await bearer.PutPolicyAsync(tenant, new { maxConcurrentRuns = 1 });
        using var keyPut = await apiKeyWithOtherScope.PutPolicyAsync(fixture.TenantB, new { maxConcurrentRuns = 1 });
        using var keyUsage = await apiKeyWithOtherScope.GetUsageAsync(fixture.TenantB);

        await AssertProblemAsync(bearerPut, HttpStatusCode.Forbidden, "forbidden");
        await AssertProblemAsync(keyPut, HttpStatusCode.Forbidden, "forbidden");
        await AssertProblemAsync(keyUsage, HttpStatusCode.Forbidden, "forbidden");
        Assert.Null(await OverrideOfAsync(tenant));
        Assert.Null(await OverrideOfAsync(fixture.TenantB));
    }

    [Fact]
    public async Task PutPolicy_Invalid_Returns400InvalidPolicyWithFieldErrorsAndStoresNothing()
    {
        var tenant = GatewayFixture.NewTenant();
        using var admin = fixture.AdminClient();
        using (var changes = RecordChanges())
        {
            using var invalid = await admin.PutPolicyAsync(tenant,
                new { maxConcurrentRuns = 0, priority = 9, fairnessWeight = -1.0, plan = "no-such-plan" });
            using var unknownField = await admin.PutPolicyJsonAsync(tenant, """{"maxConcurentRuns": 1}""");
            using var notJson = await admin.PutPolicyJsonAsync(tenant, "max runs: 1");
            using var badTenant = await admin.PutPolicyAsync("not%2Fa%2Ftenant!", new { maxConcurrentRuns = 1 });

            var problem = await AssertProblemAsync(invalid, HttpStatusCode.BadRequest, "invalid_policy");
            var errors = problem.GetProperty("errors");
            Assert.Contains("must be positive", errors.GetProperty("maxConcurrentRuns")[0].GetString(), StringComparison.Ordinal);
            Assert.Contains("1 (highest) to 5", errors.GetProperty("priority")[0].GetString(), StringComparison.Ordinal);
            Assert.Contains("positive", errors.GetProperty("fairnessWeight")[0].GetString(), StringComparison.Ordinal);
            Assert.Contains("no-such-plan", errors.GetProperty("plan")[0].GetString(), StringComparison.Ordinal);
            Assert.Contains("maxConcurentRuns", (await AssertProblemAsync(unknownField, HttpStatusCode.BadRequest, "invalid_policy")).GetProperty("detail").GetString(), StringComparison.Ordinal);
            await AssertProblemAsync(notJson, HttpStatusCode.BadRequest, "invalid_policy");
            await AssertProblemAsync(badTenant, HttpStatusCode.BadRequest, "invalid_request");
            Assert.Null(await OverrideOfAsync(tenant));
            Assert.DoesNotContain(changes.Measurements, c => c.Tag("tenant") == tenant);
        }

        // Nothing stored: the tenant's starts are not limited.
        using var client = fixture.ClientFor(tenant);
        using var first = await StartAsync(client);
        using var second = await StartAsync(client);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
    }

    [Fact]
    public async Task PutPolicy_LowersConcurrentRuns_EnforcedAtOnce_AndDeleteRestoresTheConfiguredLimit()
    {
        var tenant = GatewayFixture.NewTenant();
        await fixture.SetQuotasAsync(tenant, new { MaxConcurrentRuns = 2 });
        using var admin = fixture.AdminClient();
        using var client = fixture.ClientFor(tenant);
        using (var changes = RecordChanges())
        {
            using var admitted = await StartAsync(client);
            using var put = await admin.PutPolicyAsync(tenant, new { maxConcurrentRuns = 1, priority = 2 });
            using var refused = await StartAsync(client);
            using var get = await admin.GetPolicyAsync(tenant);
            using var list = await admin.ListTenantsAsync();

            Assert.Equal(HttpStatusCode.Created, admitted.StatusCode);
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota.concurrent_runs");
            var policy = await get.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(tenant, policy.GetProperty("tenant").GetString());
            Assert.Equal(1, policy.GetProperty("override").GetProperty("maxConcurrentRuns").GetInt32());
            Assert.Equal(1, policy.GetProperty("effective").GetProperty("maxConcurrentRuns").GetInt32());
            Assert.Equal(2, policy.GetProperty("effective").GetProperty("priority").GetInt32());
            var listed = (await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenants").EnumerateArray()
                .Single(t => t.GetProperty("tenant").GetString() == tenant);
            Assert.True(listed.GetProperty("configured").GetBoolean());
            Assert.True(listed.GetProperty("overridden").GetBoolean());

            using var deleted = await admin.DeletePolicyAsync(tenant);
            using var deletedAgain = await admin.DeletePolicyAsync(tenant);
            using var admittedAfterDelete = await StartAsync(client);
            using var refusedAfterDelete = await StartAsync(client);

            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            await AssertProblemAsync(deletedAgain, HttpStatusCode.NotFound, "policy_not_found");
            Assert.Equal(HttpStatusCode.Created, admittedAfterDelete.StatusCode); // the configured limit (2) applies again
            await AssertProblemAsync(refusedAfterDelete, HttpStatusCode.TooManyRequests, "quota.concurrent_runs");
            Assert.Null(await OverrideOfAsync(tenant));
            Assert.Equal(2, await fixture.CountWorkflowsAsync(tenant));
            Assert.Equal([(tenant, "set"), (tenant, "remove")], changes.Measurements.Where(c => c.Tag("tenant") == tenant).Select(c => (c.Tag("tenant"), c.Tag("operation"))));
        }
    }

    [Fact]
    public async Task PutPolicy_NamesAConfiguredPlan_ThePlanFillsTheUnsetFields()
    {
        var tenant = GatewayFixture.NewTenant();
        using var admin = fixture.AdminClient();

        using var put = await admin.PutPolicyAsync(tenant, new { plan = "small", maxConnections = 3 });
        var effective = (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("effective");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("small", effective.GetProperty("plan").GetString());
        Assert.Equal(1, effective.GetProperty("maxConcurrentRuns").GetInt32()); // from the plan
        Assert.Equal(3, effective.GetProperty("maxConnections").GetInt32()); // from the override
        Assert.Equal("Wait", effective.GetProperty("overBudget").GetString()); // the built-in default
    }

    [Fact]
    public async Task Usage_ShowsTheTenantsConnectionAndRunningRunNextToItsLimits()
    {
        var tenant = GatewayFixture.NewTenant();
        await fixture.SetQuotasAsync(tenant, new { MaxConnections = 4, MaxConcurrentRuns = 1 });
        using var admin = fixture.AdminClient();
        await using var hub = await fixture.ConnectedHubForAsync(tenant);
        var runId = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "keep running");
        using var client = fixture.ClientFor(tenant);
        using var refused = await StartAsync(client);

        JsonElement usage = default;
        await Eventually.TrueAsync(async () =>
        {
            using var response = await admin.GetUsageAsync(tenant);
            usage = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("usage");
            return usage.GetProperty("runsRunning").GetProperty("used").ValueKind == JsonValueKind.Number
                && usage.GetProperty("runsRunning").GetProperty("used").GetInt32() == 1;
        }, because: "the running run is counted through Temporal visibility");

        Assert.False(string.IsNullOrEmpty(runId));
        await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota.concurrent_runs");
        Assert.Equal(1, usage.GetProperty("connections").GetProperty("used").GetInt32());
        Assert.Equal(4, usage.GetProperty("connections").GetProperty("limit").GetInt32());
        Assert.Equal("node", usage.GetProperty("connections").GetProperty("scope").GetString());
        Assert.Equal(1, usage.GetProperty("runsRunning").GetProperty("limit").GetInt32());
        Assert.Equal("cluster", usage.GetProperty("runsRunning").GetProperty("scope").GetString());
        Assert.Equal(1, usage.GetProperty("rejections").GetProperty("used").GetInt32());
        Assert.Equal(JsonValueKind.Null, usage.GetProperty("rejections").GetProperty("limit").ValueKind);
    }

    [Fact]
    public async Task DevToken_WithAdminScope_IsAnAdminInDevelopment()
    {
        var tenant = GatewayFixture.NewTenant();
        using var anonymous = new HttpClient { BaseAddress = fixture.Host.Address };
        using var issued = await anonymous.PostAsJsonAsync("v1/dev/tokens", new { tenant = fixture.AdminTenant, subject = "dev-operator", scopes = new[] { "admin" } });
        using var badScopes = await anonymous.PostAsJsonAsync("v1/dev/tokens", new { tenant = fixture.AdminTenant, subject = "dev-operator", scopes = new[] { "ad min" } });
        var token = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        var bearer = new HttpClient { BaseAddress = fixture.Host.Address };
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var admin = new TenantAdminClient(bearer);

        using var put = await admin.PutPolicyAsync(tenant, new { runStartsPerMinute = 30 });

        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badScopes.StatusCode);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(30, (await OverrideOfAsync(tenant))?.GetProperty("runStartsPerMinute").GetDouble());
    }

    private static Task<HttpResponseMessage> StartAsync(HttpClient client) =>
        client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = "hello" });

    /// <summary>The tenant's override as GET /policy reports it (null: none).</summary>
    private async Task<JsonElement?> OverrideOfAsync(string tenant)
    {
        using var admin = fixture.AdminClient();
        using var response = await admin.GetPolicyAsync(tenant);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.TryGetProperty("override", out var value) && value.ValueKind == JsonValueKind.Object ? value : null;
    }

    /// <summary>Records the gateway's policy change counter (tags "tenant" and "operation").</summary>
    private InstrumentRecorder<long> RecordChanges() => CounterRecorder.Start(fixture.Host.Services.GetRequiredService<IMeterFactory>(),
        TenantPolicyChangeMetrics.ChangesCounter, TenantPolicyChangeMetrics.MeterName);

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        return problem;
    }
}
