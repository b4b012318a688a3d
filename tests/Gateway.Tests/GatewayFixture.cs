using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Temporalio.Client;

namespace AgentOrchestrator.Gateway.Tests;

/// <summary>One dev server and one gateway (Development environment) shared by the gateway tests.</summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    private GatewayTestHost? _host;
    private TemporalClient? _temporal;

    public DevServerFixture DevServer { get; } = new();

    public GatewayTestHost Host => _host ?? throw new InvalidOperationException("not started");

    public TemporalClient Temporal => _temporal ?? throw new InvalidOperationException("not started");

    public HttpClient Http { get; private set; } = new();

    public async Task InitializeAsync()
    {
        await DevServer.InitializeAsync();
        _temporal = await DevServer.ConnectClientAsync();
        _host = await GatewayTestHost.StartAsync(DevServer.Target);
        Http = new HttpClient { BaseAddress = _host.Address };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
        await DevServer.DisposeAsync();
    }

    public static string NewTenant() => "t" + Guid.NewGuid().ToString("N")[..12];

    public Task<string> DevTokenAsync(string tenant, string subject = "tester") => DevTokens.IssueAsync(Host.Address, tenant, subject);

    public async Task<HttpClient> ClientForAsync(string tenant)
    {
        var client = new HttpClient { BaseAddress = Host.Address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await DevTokenAsync(tenant));
        return client;
    }

    public async Task<HubConnection> HubForAsync(string tenant)
    {
        var token = await DevTokenAsync(tenant);
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(Host.Address, "hubs/runs"), options => options.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        await connection.StartAsync();
        return connection;
    }

    /// <summary>Workflows the dev server holds for a tenant (their ids start with the tenant prefix).</summary>
    public async Task<int> CountWorkflowsAsync(string tenant) =>
        (int)(await Temporal.CountWorkflowsAsync($"WorkflowId STARTS_WITH 'tenant/{tenant}/'")).Count;

    /// <summary>A token signed with the test hosts' key but shaped by the test (expired, no tenant, ...).</summary>
    public static string SignToken(string? tenant, DateTime notBefore, DateTime expires, string? key = null)
    {
        var claims = new List<Claim> { new("sub", "tester") };
        if (tenant is not null)
        {
            claims.Add(new Claim("tenant", tenant));
        }
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "agent-orchestrator",
            Audience = "agent-orchestrator",
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires,
            Subject = new ClaimsIdentity(claims),
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key ?? GatewayTestHost.SigningKey)), SecurityAlgorithms.HmacSha256),
        });
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayTestGroup : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
