using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// The tenant admin API (/v1/admin/tenants) over an HTTP client whose credentials the caller chose (admin API key,
/// admin-scoped dev token, or none, to test refusals). Calls return the raw response: tests assert its status.
/// </summary>
public sealed class TenantAdminClient(HttpClient http) : IDisposable
{
    /// <summary>The dev-token tenant of operators in the deployments' tests.</summary>
    public const string OperatorTenant = "operators";

    public static Uri TenantsPath { get; } = new("v1/admin/tenants", UriKind.Relative);

    public static Uri PolicyPath(string tenant) => new($"v1/admin/tenants/{tenant}/policy", UriKind.Relative);

    public static Uri UsagePath(string tenant) => new($"v1/admin/tenants/{tenant}/usage", UriKind.Relative);

    /// <summary>An admin of <paramref name="gateway"/> through a dev token with the "admin" scope.</summary>
    public static async Task<TenantAdminClient> WithDevTokenAsync(Uri gateway, string tenant = OperatorTenant, string subject = "policy-e2e") =>
        new(await DevTokens.ClientAsync(gateway, tenant, subject, "admin"));

    public Task<HttpResponseMessage> ListTenantsAsync() => http.GetAsync(TenantsPath);

    public Task<HttpResponseMessage> PutPolicyAsync(string tenant, object policy) => http.PutAsJsonAsync(PolicyPath(tenant), policy);

    /// <summary>PUT with a body sent as written (for malformed or misspelled policies).</summary>
    public async Task<HttpResponseMessage> PutPolicyJsonAsync(string tenant, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        return await http.PutAsync(PolicyPath(tenant), content);
    }

    /// <summary>GET the tenant's policy, on <paramref name="gateway"/> when given (another gateway of the same deployment).</summary>
    public Task<HttpResponseMessage> GetPolicyAsync(string tenant, Uri? gateway = null) =>
        http.GetAsync(gateway is null ? PolicyPath(tenant) : new Uri(gateway, PolicyPath(tenant)));

    public Task<HttpResponseMessage> DeletePolicyAsync(string tenant) => http.DeleteAsync(PolicyPath(tenant));

    public Task<HttpResponseMessage> GetUsageAsync(string tenant) => http.GetAsync(UsagePath(tenant));

    /// <summary>The policy in force for the tenant (the "effective" member of GET /policy), on <paramref name="gateway"/> when given.</summary>
    public async Task<JsonElement> EffectivePolicyAsync(string tenant, Uri? gateway = null)
    {
        using var response = await GetPolicyAsync(tenant, gateway);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("effective");
    }

    public void Dispose() => http.Dispose();
}
