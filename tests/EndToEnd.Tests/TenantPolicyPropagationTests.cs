using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Xunit.Abstractions;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// Two gateway processes and a worker sharing a Redis policy store (Tenancy:Store=Redis): a policy changed through
/// the admin API of one gateway is enforced by the other within seconds, without a restart, and survives a Redis
/// outage (the last policy read stays in force; changes resume once Redis is back).
/// </summary>
public sealed class TenantPolicyPropagationTests(TenantPolicyDeployment fixture, ITestOutputHelper output) : IClassFixture<TenantPolicyDeployment>
{
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task PutPolicy_OnOneGateway_IsEnforcedByTheOtherWithinSeconds_AndDeleteRestoresTheConfiguredLimit()
    {
        var tenant = TenantPolicyDeployment.TenantA;
        using var admin = await TenantAdminClient.WithDevTokenAsync(fixture.Deployment.Gateways[0]);
        using var client = await TenantPolicyDeployment.ClientAsync(fixture.Deployment.Gateways[1], tenant);
        foreach (var _ in Enumerable.Range(0, 3))
        {
            using var beforeChange = await StartAsync(client);
            Assert.Equal(HttpStatusCode.Created, beforeChange.StatusCode);
        }

        using var put = await admin.PutPolicyAsync(tenant, new { runStartsPerMinute = 1, runStartBurst = 1 });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var changed = Stopwatch.StartNew();
        await Eventually.TrueAsync(async () => (await EffectiveAsync(admin, 1, tenant)).GetProperty("runStartsPerMinute").GetDouble() == 1,
            Propagation, "the second gateway reads the new policy");
        // Reported, not asserted (the machine may be loaded): how soon the other gateway had the change.
        output.WriteLine($"policy change seen by the second gateway {changed.ElapsedMilliseconds} ms after the PUT answered");
        using var lastAdmitted = await StartAsync(client);
        using var refused = await StartAsync(client);

        Assert.Equal(HttpStatusCode.Created, lastAdmitted.StatusCode);
        await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota.start_rate");

        using var deleted = await admin.DeletePolicyAsync(tenant);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Eventually.TrueAsync(async () => (await EffectiveAsync(admin, 1, tenant)).GetProperty("runStartsPerMinute").GetDouble() == 600,
            Propagation, "the second gateway drops the override");
        // 600 a minute refills a start every 100 ms; the override's 1 a minute would admit one start in this time.
        var admittedAfterDelete = 0;
        await Eventually.TrueAsync(async () =>
        {
            using var response = await StartAsync(client);
            admittedAfterDelete += response.StatusCode == HttpStatusCode.Created ? 1 : 0;
            return admittedAfterDelete == 3;
        }, TimeSpan.FromSeconds(30), "the configured rate admits starts again");
    }

    [Fact]
    public async Task RedisStopped_GatewaysKeepTheLastPolicyAndServe_AndAChangeAfterRestartPropagates()
    {
        var tenant = TenantPolicyDeployment.TenantC;
        using var admin = await TenantAdminClient.WithDevTokenAsync(fixture.Deployment.Gateways[0]);
        using var client = await TenantPolicyDeployment.ClientAsync(fixture.Deployment.Gateways[1], tenant);
        using var other = await TenantPolicyDeployment.ClientAsync(fixture.Deployment.Gateways[1], "tenant-policy-other");
        using var put = await admin.PutPolicyAsync(tenant, new { runStartsPerMinute = 1, runStartBurst = 1 });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        await Eventually.TrueAsync(async () => (await EffectiveAsync(admin, 1, tenant)).GetProperty("runStartsPerMinute").GetDouble() == 1,
            Propagation, "the second gateway reads the policy");
        var warningsBefore = Occurrences(fixture.Deployment.Output, "Tenant policy store unreachable");

        await fixture.Redis.StopAsync();
        try
        {
            await Eventually.TrueAsync(() => Occurrences(fixture.Deployment.Output, "Tenant policy store unreachable") >= warningsBefore + 2,
                Propagation, "both gateways notice the outage");
            using var admitted = await StartAsync(client);
            using var refused = await StartAsync(client);
            using var otherTenant = await StartAsync(other);
            using var refusedChange = await admin.PutPolicyAsync(tenant, new { runStartsPerMinute = 2 });
            var stillInForce = await EffectiveAsync(admin, 1, tenant);

            Assert.Equal(HttpStatusCode.Created, admitted.StatusCode);
            await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota.start_rate");
            Assert.Equal(HttpStatusCode.Created, otherTenant.StatusCode);
            await AssertProblemAsync(refusedChange, HttpStatusCode.ServiceUnavailable, "policy_store_unavailable");
            Assert.Equal(TimeSpan.FromSeconds(5), refusedChange.Headers.RetryAfter?.Delta);
            Assert.Equal(1, stillInForce.GetProperty("runStartsPerMinute").GetDouble());
        }
        finally
        {
            await fixture.Redis.RestartAsync();
        }

        await Eventually.TrueAsync(async () =>
        {
            using var response = await admin.PutPolicyAsync(tenant, new { runStartsPerMinute = 2, runStartBurst = 1 });
            return response.StatusCode == HttpStatusCode.OK;
        }, Propagation, "the first gateway stores changes again");
        await Eventually.TrueAsync(async () => (await EffectiveAsync(admin, 1, tenant)).GetProperty("runStartsPerMinute").GetDouble() == 2,
            Propagation, "the second gateway reads the change made after the outage");
        Assert.True(Occurrences(fixture.Deployment.Output, "Tenant policy store reachable again") >= 1, fixture.Deployment.Output);
    }

    private static Task<HttpResponseMessage> StartAsync(HttpClient client) =>
        client.PostAsJsonAsync("/v1/runs", new { flow = Flows.WriterReviewer, input = "policy" });

    /// <summary>The policy in force on gateway <paramref name="gateway"/> (admin GET on that gateway).</summary>
    private Task<JsonElement> EffectiveAsync(TenantAdminClient admin, int gateway, string tenant) =>
        admin.EffectivePolicyAsync(tenant, fixture.Deployment.Gateways[gateway]);

    private static int Occurrences(string text, string fragment)
    {
        var count = 0;
        for (var at = text.IndexOf(fragment, StringComparison.Ordinal); at >= 0; at = text.IndexOf(fragment, at + 1, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(code, problem.GetProperty("code").GetString());
    }
}

/// <summary>A Redis server and a deployment of two gateways and one worker using it as the tenant policy store.</summary>
public sealed class TenantPolicyDeployment : RedisTenancyDeployment
{
    public const string TenantA = "tenant-policy-a";
    public const string TenantC = "tenant-policy-c";

    protected override DistributedDeploymentOptions Options => new()
    {
        Gateways = 2,
        Environment = new Dictionary<string, string>
        {
            ["Tenancy__RefreshInterval"] = "00:00:01",
            [$"Tenancy__Tenants__{TenantA}__RunStartsPerMinute"] = "600",
            [$"Tenancy__Tenants__{TenantA}__RunStartBurst"] = "50",
            [$"Tenancy__Tenants__{TenantC}__RunStartsPerMinute"] = "600",
            [$"Tenancy__Tenants__{TenantC}__RunStartBurst"] = "50",
        },
    };

    /// <summary>A client of <paramref name="gateway"/> with a dev token of the given tenant.</summary>
    public static Task<HttpClient> ClientAsync(Uri gateway, string tenant) => DevTokens.ClientAsync(gateway, tenant, "policy-e2e");
}
