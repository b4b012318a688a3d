using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.Bench;

/// <summary>What the scenarios need from a gateway as a client: a dev token, hub connections, REST starts.</summary>
internal sealed class GatewayClient : IDisposable
{
    private GatewayClient(Uri gateway, string token, HttpClient http)
    {
        Gateway = gateway;
        Token = token;
        Http = http;
    }

    public Uri Gateway { get; }

    public string Token { get; }

    /// <summary>Authorized with the tenant's token.</summary>
    public HttpClient Http { get; }

    public static async Task<GatewayClient> CreateAsync(Uri gateway, string tenant)
    {
        var token = await DevTokens.IssueAsync(gateway, tenant, "bench");
        var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new GatewayClient(gateway, token, http);
    }

    /// <summary>
    /// A hub connection (not started) for this tenant. With <paramref name="closeIdleNegotiate"/>, the HTTP
    /// connection used for negotiate closes after 1 s idle: each .NET HubConnection has its own HTTP pool (a
    /// browser shares one per origin), so otherwise every hub keeps a second, idle keep-alive socket open on both
    /// sides, which would count in the gateway's memory per connection and double the file descriptors.
    /// </summary>
    public HubConnection NewHub(bool closeIdleNegotiate = false) => new HubConnectionBuilder()
        .WithUrl(new Uri(Gateway, "/hubs/runs"), options =>
        {
            options.AccessTokenProvider = () => Task.FromResult<string?>(Token);
            if (closeIdleNegotiate)
            {
                options.HttpMessageHandlerFactory = _ => new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(1) };
            }
        })
        .Build();

    /// <summary>POST /v1/runs; returns the run id.</summary>
    public async Task<string> StartRunAsync(string flow, string input)
    {
        using var response = await Http.PostAsJsonAsync("/v1/runs", new { flow, input });
        return await RunIdOfAsync(response, CancellationToken.None);
    }

    /// <summary>
    /// POST /v1/runs as a client that honours quotas: the run id, or the refusal's problem code and Retry-After
    /// when the gateway answers 429 or 503. Anything else fails.
    /// </summary>
    public async Task<StartAttempt> TryStartRunAsync(string flow, string input, CancellationToken cancellationToken = default)
    {
        using var response = await Http.PostAsJsonAsync("/v1/runs", new { flow, input }, cancellationToken);
        if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            var code = problem.TryGetProperty("code", out var value) ? value.GetString() ?? "?" : "?";
            return new StartAttempt(null, code, response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
        }
        return new StartAttempt(await RunIdOfAsync(response, cancellationToken), null, TimeSpan.Zero);
    }

    /// <summary>The started run's id; any other answer fails with its status and body.</summary>
    private static async Task<string> RunIdOfAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /v1/runs answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("runId").GetString()!;
    }

    public void Dispose() => Http.Dispose();
}

/// <summary>One start attempt: <see cref="RunId"/> when started, else the refusal's code and Retry-After.</summary>
internal sealed record StartAttempt(string? RunId, string? RefusalCode, TimeSpan RetryAfter);
