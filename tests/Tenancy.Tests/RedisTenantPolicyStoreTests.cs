using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Tenancy.Tests;

/// <summary>
/// Tenancy:Store = Redis against a real redis-server of the test's own, with two hosts standing for two processes
/// (each its own Redis connection, refresher and provider).
/// </summary>
public sealed class RedisTenantPolicyStoreTests
{
    [Fact]
    public async Task Change_OnOneProcess_ReachesTheOtherThroughTheNotification()
    {
        await using var redis = await RedisServer.StartAsync();
        // A refresh interval far beyond the test: only the change notification can bring the change.
        using var writer = await StartAsync(redis, TimeSpan.FromMinutes(10));
        using var reader = await StartAsync(redis, TimeSpan.FromMinutes(10));
        var readerPolicies = reader.Services.GetRequiredService<ITenantPolicyProvider>();
        var store = writer.Services.GetRequiredService<ITenantPolicyStore>();

        await store.SetAsync("acme", new TenantPolicy { MaxConcurrentRuns = 2, OverBudget = OverBudgetBehavior.Fail }, CancellationToken.None);
        await Eventually.TrueAsync(() => readerPolicies.PolicyOf("acme").MaxConcurrentRuns == 2, TimeSpan.FromSeconds(30), "the reader hears of the change");
        var stored = await store.GetAllAsync(CancellationToken.None);
        var removed = await store.RemoveAsync("acme", CancellationToken.None);
        var removedAgain = await store.RemoveAsync("acme", CancellationToken.None);
        await Eventually.TrueAsync(() => readerPolicies.PolicyOf("acme").MaxConcurrentRuns == 5, TimeSpan.FromSeconds(30), "the reader hears of the removal");

        Assert.IsType<RedisTenantPolicyStore>(store);
        Assert.Equal(new TenantPolicy { MaxConcurrentRuns = 2, OverBudget = OverBudgetBehavior.Fail }, stored["acme"]);
        Assert.Equal(OverBudgetBehavior.Wait, readerPolicies.PolicyOf("acme").OverBudget);
        Assert.True(removed);
        Assert.False(removedAgain);
    }

    [Fact]
    public async Task RedisStopped_KeepsTheLastOverridesLogsOnceAndRecoversByItself()
    {
        await using var redis = await RedisServer.StartAsync();
        var logs = new RecordingLoggerProvider();
        using var writer = await StartAsync(redis, TimeSpan.FromMilliseconds(200));
        using var reader = await StartAsync(redis, TimeSpan.FromMilliseconds(200), logs);
        var readerPolicies = reader.Services.GetRequiredService<ITenantPolicyProvider>();
        var store = writer.Services.GetRequiredService<ITenantPolicyStore>();
        await store.SetAsync("acme", new TenantPolicy { RunStartsPerMinute = 1 }, CancellationToken.None);
        await Eventually.TrueAsync(() => readerPolicies.PolicyOf("acme").RunStartsPerMinute == 1, TimeSpan.FromSeconds(30), "the reader has the override");

        await redis.StopAsync();
        await Eventually.TrueAsync(() => logs.Count("Tenant policy store unreachable") > 0, TimeSpan.FromSeconds(60), "the reader notices the outage");
        var duringOutage = readerPolicies.PolicyOf("acme").RunStartsPerMinute;
        var refusedChange = await Record.ExceptionAsync(() => store.SetAsync("acme", new TenantPolicy { RunStartsPerMinute = 2 }, CancellationToken.None));

        await redis.RestartAsync(); // empty: the test server keeps no data
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await store.SetAsync("acme", new TenantPolicy { RunStartsPerMinute = 3 }, CancellationToken.None);
                return true;
            }
            catch (TenantPolicyStoreUnavailableException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "the writer reconnects");
        await Eventually.TrueAsync(() => readerPolicies.PolicyOf("acme").RunStartsPerMinute == 3, TimeSpan.FromSeconds(60), "the reader recovers by itself");

        Assert.Equal(1, duringOutage);
        Assert.IsType<TenantPolicyStoreUnavailableException>(refusedChange);
        Assert.Equal(1, logs.Count("Tenant policy store unreachable"));
        await Eventually.TrueAsync(() => logs.Count("Tenant policy store reachable again") == 1, TimeSpan.FromSeconds(30), "the recovery is logged");
    }

    [Fact]
    public async Task Start_RedisUnreachable_StartsWithConfigurationAndTellsWhy()
    {
        var logs = new RecordingLoggerProvider();
        var closedPort = ServiceProcess.FreePort();

        using var host = await StartAsync($"127.0.0.1:{closedPort}", TimeSpan.FromSeconds(1), logs,
            new Dictionary<string, string?> { ["Tenancy:Tenants:acme:MaxConnections"] = "4" });
        var store = host.Services.GetRequiredService<ITenantPolicyStore>();

        Assert.Equal(4, host.Services.GetRequiredService<ITenantPolicyProvider>().PolicyOf("acme").MaxConnections);
        Assert.Equal(1, logs.Count("Tenant policy store unreachable"));
        await Assert.ThrowsAsync<TenantPolicyStoreUnavailableException>(() => store.GetAllAsync(CancellationToken.None));
    }

    private static Task<IHost> StartAsync(RedisServer redis, TimeSpan refreshInterval, RecordingLoggerProvider? logs = null) =>
        StartAsync(redis.Configuration, refreshInterval, logs);

    private static async Task<IHost> StartAsync(string redis, TimeSpan refreshInterval, RecordingLoggerProvider? logs,
        IDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tenancy:Store"] = "Redis",
            ["Tenancy:Redis"] = redis,
            ["Tenancy:RefreshInterval"] = refreshInterval.ToString(),
            ["Tenancy:Tenants:acme:MaxConcurrentRuns"] = "5",
        });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }
        builder.Services.AddTenancy(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
