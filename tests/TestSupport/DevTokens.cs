using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentOrchestrator.TestSupport;

/// <summary>Tokens from a gateway's development token endpoint (POST /v1/dev/tokens), as every test client gets them.</summary>
public static class DevTokens
{
    public static async Task<string> IssueAsync(Uri gateway, string tenant, string subject, params string[] scopes)
    {
        using var http = new HttpClient();
        // Scopes are sent only when asked for: the request stays what a plain client sends.
        object body = scopes.Length == 0 ? new { tenant, subject } : new { tenant, subject, scopes };
        using var response = await http.PostAsJsonAsync(new Uri(gateway, "v1/dev/tokens"), body);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>An HTTP client of <paramref name="gateway"/> sending a dev token of the tenant (and scopes) as its bearer.</summary>
    public static async Task<HttpClient> ClientAsync(Uri gateway, string tenant, string subject, params string[] scopes)
    {
        var token = await IssueAsync(gateway, tenant, subject, scopes);
        var http = new HttpClient { BaseAddress = gateway };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
