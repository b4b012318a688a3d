using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Tenancy.Tests;

/// <summary>Tenancy:Store = File: overrides made in one process life are in force in the next one.</summary>
public sealed class FileTenantPolicyStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tenancy-file-" + Guid.NewGuid().ToString("N"));

    private string FilePath => Path.Combine(_directory, "tenant-overrides.json");

    [Fact]
    public async Task Overrides_HostRestartsOnTheSameFile_AreInForceAgain()
    {
        using (var first = await StartAsync())
        {
            var store = first.Services.GetRequiredService<ITenantPolicyStore>();
            await store.SetAsync("acme", new TenantPolicy { MaxConcurrentRuns = 2, OverBudget = OverBudgetBehavior.Fail }, CancellationToken.None);
            await store.SetAsync("globex", new TenantPolicy { MaxConnections = 7 }, CancellationToken.None);
            Assert.True(await store.RemoveAsync("globex", CancellationToken.None));
            Assert.False(await store.RemoveAsync("globex", CancellationToken.None));
            await first.StopAsync();
        }

        using var second = await StartAsync();
        var policies = second.Services.GetRequiredService<ITenantPolicyProvider>();

        Assert.IsType<FileTenantPolicyStore>(second.Services.GetRequiredService<ITenantPolicyStore>());
        Assert.Equal(2, policies.PolicyOf("acme").MaxConcurrentRuns);
        Assert.Equal(OverBudgetBehavior.Fail, policies.PolicyOf("acme").OverBudget);
        Assert.Equal(3, policies.PolicyOf("globex").MaxConnections);
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Start_UnreadableFile_FailsAndLeavesTheFileAlone()
    {
        Directory.CreateDirectory(_directory);
        await File.WriteAllTextAsync(FilePath, "{ \"acme\": { \"maxConcurrentRuns\": ");

        var error = await Assert.ThrowsAsync<InvalidDataException>(StartAsync);

        Assert.Contains(FilePath, error.Message, StringComparison.Ordinal);
        Assert.Equal("{ \"acme\": { \"maxConcurrentRuns\": ", await File.ReadAllTextAsync(FilePath));
    }

    [Fact]
    public void Validation_FileStoreWithoutPath_IsRefused()
    {
        var options = new TenancyOptions { Store = TenancyStore.File };

        var failures = TenantPolicyValidation.Validate(options);

        Assert.Contains(failures, f => f.Contains("Tenancy:FilePath is required", StringComparison.Ordinal));
    }

    private async Task<IHost> StartAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tenancy:Store"] = "File",
            ["Tenancy:FilePath"] = FilePath,
            ["Tenancy:Tenants:acme:MaxConcurrentRuns"] = "5",
            ["Tenancy:Tenants:globex:MaxConnections"] = "3",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddTenancy(builder.Configuration).UseSingleProcessTenancy();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
