using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Text.Json;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Quotas;
using AgentOrchestrator.Tenancy;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Temporalio.Client;

namespace AgentOrchestrator.Gateway.Tests;

/// <summary>
/// A gateway on its own dev server (no worker: started runs stay running) with two tenant API keys, an admin API key,
/// and its tenant policy ("Tenancy") and quota settings in a reloadable JSON file the tests rewrite. Each test uses its own tenants; the gateway's rejection counter is
/// recorded through a MeterListener scoped to this host's meters.
/// </summary>
public sealed class AuthQuotaGatewayFixture : IAsyncLifetime, IDisposable
{
    public const string ApiKeyA = "test-api-key-of-tenant-a-0123456789";
    public const string ApiKeyB = "test-api-key-of-tenant-b-0123456789";

    /// <summary>An API key with the "admin" scope (tenant <see cref="AdminTenant"/>), for the admin API.</summary>
    public const string AdminApiKey = "test-api-key-of-an-operator-0123456789";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "authq-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, Dictionary<string, object>> _tenantQuotas = [];
    private readonly ConcurrentDictionary<(string Tenant, string Reason), long> _rejections = new();
    private readonly MeterListener _listener = new();
    private readonly string _reloadMarker = GatewayFixture.NewTenant();
    private int _generation;
    private GatewayTestHost? _host;
    private TemporalClient? _temporal;

    public DevServerFixture DevServer { get; } = new();

    public GatewayTestHost Host => _host ?? throw new InvalidOperationException("not started");

    public TemporalClient Temporal => _temporal ?? throw new InvalidOperationException("not started");

    public HttpClient Http { get; private set; } = new();

    /// <summary>The tenants of <see cref="ApiKeyA"/> and <see cref="ApiKeyB"/>.</summary>
    public string TenantA { get; } = GatewayFixture.NewTenant();

    public string TenantB { get; } = GatewayFixture.NewTenant();

    public string AdminTenant { get; } = GatewayFixture.NewTenant();

    private string QuotaFile => Path.Combine(_directory, "quotas.json");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        await WriteQuotasAsync();
        await DevServer.InitializeAsync();
        _temporal = await DevServer.ConnectClientAsync();
        _host = await GatewayTestHost.StartAsync(DevServer.Target, settings: new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0:Id"] = "service-a",
            ["Auth:ApiKeys:0:Hash"] = ApiKeyDefaults.HashOf(ApiKeyA),
            ["Auth:ApiKeys:0:Tenant"] = TenantA,
            ["Auth:ApiKeys:0:Subject"] = "service-a",
            ["Auth:ApiKeys:1:Id"] = "service-b",
            ["Auth:ApiKeys:1:Hash"] = ApiKeyDefaults.HashOf(ApiKeyB),
            ["Auth:ApiKeys:1:Tenant"] = TenantB,
            ["Auth:ApiKeys:1:Subject"] = "service-b",
            ["Auth:ApiKeys:1:Scopes:0"] = "runs",
            ["Auth:ApiKeys:2:Id"] = "operator",
            ["Auth:ApiKeys:2:Hash"] = ApiKeyDefaults.HashOf(AdminApiKey),
            ["Auth:ApiKeys:2:Tenant"] = AdminTenant,
            ["Auth:ApiKeys:2:Subject"] = "ops@example.com",
            ["Auth:ApiKeys:2:Scopes:0"] = "runs",
            ["Auth:ApiKeys:2:Scopes:1"] = "admin",
        }, configure: (builder, _) => builder.Configuration.AddJsonFile(QuotaFile, optional: false, reloadOnChange: true));
        Http = new HttpClient { BaseAddress = _host.Address };

        var meters = _host.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Meter.Name == QuotaMetrics.MeterName && instrument.Name == QuotaMetrics.RejectionsCounter)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? tenant = null, reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "tenant")
                {
                    tenant = tag.Value as string;
                }
                else if (tag.Key == "reason")
                {
                    reason = tag.Value as string;
                }
            }
            _rejections.AddOrUpdate((tenant ?? "", reason ?? ""), value, (_, total) => total + value);
        });
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        Http.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
        await DevServer.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>
    /// Sets a tenant's configured policy ("Tenancy:Tenants:&lt;t&gt;", replacing its previous entry), rewrites the file and
    /// waits until the gateway has reloaded it: a marker entry carries a generation number, and the configuration in
    /// force shows it (for an invalid file, which the gateway keeps out of force, until its configuration shows it).
    /// </summary>
    public async Task SetQuotasAsync(string tenant, object quotas, bool expectInForce = true)
    {
        var json = JsonSerializer.SerializeToElement(quotas);
        _tenantQuotas[tenant] = json.EnumerateObject().ToDictionary(p => p.Name, p => (object)p.Value);
        var generation = ++_generation;
        _tenantQuotas[_reloadMarker] = new Dictionary<string, object> { ["MaxConnections"] = generation };
        await WriteQuotasAsync();
        await Eventually.TrueAsync(() => (expectInForce
                ? Host.Services.GetRequiredService<TenantPolicyProvider>().Configuration
                : Host.Services.GetRequiredService<IOptionsMonitor<TenancyOptions>>().CurrentValue)
            .Tenants.GetValueOrDefault(_reloadMarker)?.MaxConnections == generation,
            because: "the gateway reloads the changed quota file");
    }

    /// <summary>Rejections the gateway counted on gateway.quota.rejections for this tenant and reason.</summary>
    public long Rejections(string tenant, string reason) => _rejections.GetValueOrDefault((tenant, reason));

    /// <summary>An admin API client authenticated with <see cref="AdminApiKey"/>.</summary>
    public TenantAdminClient AdminClient()
    {
        var client = new HttpClient { BaseAddress = Host.Address };
        client.DefaultRequestHeaders.Add(ApiKeyDefaults.HeaderName, AdminApiKey);
        return new TenantAdminClient(client);
    }

    public HttpClient ClientFor(string tenant)
    {
        var client = new HttpClient { BaseAddress = Host.Address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TokenFor(tenant));
        return client;
    }

    public static string TokenFor(string tenant) =>
        GatewayFixture.SignToken(tenant, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1));

    public HubConnection HubFor(string tenant) => new HubConnectionBuilder()
        .WithUrl(new Uri(Host.Address, "hubs/runs"), options => options.AccessTokenProvider = () => Task.FromResult<string?>(TokenFor(tenant)))
        .Build();

    public async Task<HubConnection> ConnectedHubForAsync(string tenant)
    {
        var hub = HubFor(tenant);
        await hub.StartAsync();
        return hub;
    }

    /// <summary>Workflows the dev server holds for a tenant, whatever their state.</summary>
    public async Task<int> CountWorkflowsAsync(string tenant) =>
        (int)(await Temporal.CountWorkflowsAsync($"WorkflowId STARTS_WITH 'tenant/{tenant}/'")).Count;

    /// <summary>A tenant's running workflows, found through the TenantId search attribute the gateway sets.</summary>
    public async Task<int> CountRunningAsync(string tenant) =>
        (int)(await Temporal.CountWorkflowsAsync($"TenantId = '{tenant}' AND ExecutionStatus = 'Running'")).Count;

    private async Task WriteQuotasAsync()
    {
        var document = new Dictionary<string, object>
        {
            ["Quotas"] = new Dictionary<string, object>
            {
                ["ConcurrentRunsCacheTtl"] = "00:00:00.200",
                ["RetryAfterSeconds"] = 7,
            },
            ["Tenancy"] = new Dictionary<string, object>
            {
                ["Plans"] = new Dictionary<string, object> { ["small"] = new Dictionary<string, object> { ["MaxConcurrentRuns"] = 1 } },
                ["Tenants"] = _tenantQuotas,
            },
        };
        // Write then rename, so the watcher never reloads a half-written file.
        var temporary = QuotaFile + ".tmp";
        await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(document));
        File.Move(temporary, QuotaFile, overwrite: true);
    }
}

[CollectionDefinition(Name)]
public sealed class AuthQuotaTestGroup : ICollectionFixture<AuthQuotaGatewayFixture>
{
    public const string Name = "auth-quota";
}
