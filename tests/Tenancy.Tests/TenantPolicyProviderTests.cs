using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Tenancy.Tests;

public sealed class TenantPolicyProviderTests
{
    [Fact]
    public void Reload_InvalidConfiguration_KeepsThePreviousOneAndLogsAnError()
    {
        var configuration = (IConfigurationRoot)new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Tenancy:Tenants:acme:MaxConcurrentRuns"] = "3" })
            .Build();
        var logs = new RecordingLoggerProvider();
        using var services = Services(configuration, logs);
        var provider = services.GetRequiredService<TenantPolicyProvider>();

        configuration["Tenancy:Tenants:acme:MaxConcurrentRuns"] = "0";
        configuration.Reload();
        var afterInvalid = provider.PolicyOf("acme").MaxConcurrentRuns;
        configuration["Tenancy:Tenants:acme:MaxConcurrentRuns"] = "4";
        configuration.Reload();

        Assert.Equal(3, afterInvalid);
        Assert.Equal(4, provider.PolicyOf("acme").MaxConcurrentRuns);
        Assert.Contains(logs.Messages, m => m.Level == LogLevel.Error
            && m.Message.Contains("Tenancy:Tenants:acme:MaxConcurrentRuns must be positive", StringComparison.Ordinal));
    }

    [Fact]
    public void Start_InvalidConfiguration_ThrowsWithEveryFailure()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Tenancy:Default:Priority"] = "0",
                ["Tenancy:Tenants:acme:Plan"] = "gold",
            })
            .Build();
        using var services = Services(configuration, new RecordingLoggerProvider());

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<ITenantPolicyProvider>());

        Assert.Contains("Tenancy:Default:Priority must be from 1 (highest) to 5 (lowest).", error.Failures);
        Assert.Contains(error.Failures, f => f.Contains("Tenancy:Tenants:acme:Plan no plan named 'gold'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Refresh_InMemoryStore_AppliesAnOverrideOnTopOfConfiguration()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Tenancy:Tenants:acme:MaxConcurrentRuns"] = "3", ["Tenancy:Tenants:acme:MaxConnections"] = "9" })
            .Build();
        using var services = Services(configuration, new RecordingLoggerProvider());
        var provider = services.GetRequiredService<TenantPolicyProvider>();
        var store = services.GetRequiredService<ITenantPolicyStore>();

        await store.SetAsync("acme", new TenantPolicy { MaxConcurrentRuns = 1 }, CancellationToken.None);
        await provider.RefreshAsync(CancellationToken.None);
        var overridden = provider.PolicyOf("acme");
        await store.RemoveAsync("acme", CancellationToken.None);
        await provider.RefreshAsync(CancellationToken.None);

        Assert.IsType<InMemoryTenantPolicyStore>(store);
        Assert.Equal(1, overridden.MaxConcurrentRuns);
        Assert.Equal(9, overridden.MaxConnections);
        Assert.Equal(3, provider.PolicyOf("acme").MaxConcurrentRuns);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    public async Task Start_InMemoryStore_WarnsUnlessEveryPartRunsInThisProcess(bool singleProcess, int warnings)
    {
        var logs = new RecordingLoggerProvider();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(logs);
        builder.Services.AddTenancy(builder.Configuration);
        if (singleProcess)
        {
            builder.Services.UseSingleProcessTenancy();
        }
        using var host = builder.Build();

        await host.StartAsync();
        await host.StopAsync();

        Assert.Equal(warnings, logs.Count("policy changes made through the admin API reach this process only"));
        Assert.Equal(1, logs.Count("runtime overrides in the InMemory store"));
    }

    private static ServiceProvider Services(IConfiguration configuration, RecordingLoggerProvider logs)
    {
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddLogging(logging => logging.AddProvider(logs));
        services.AddTenancy(configuration);
        return services.BuildServiceProvider();
    }
}
