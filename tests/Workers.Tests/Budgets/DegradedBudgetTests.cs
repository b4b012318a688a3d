using System.Diagnostics.Metrics;
using AgentOrchestrator.Tenancy.Budgets;
using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.Workers.Tests.Budgets;

/// <summary>Redis goes away mid-way: model calls go on against the worker's local share, and the shared budget comes back by itself.</summary>
public sealed class DegradedBudgetTests : IAsyncLifetime
{
    private BudgetWorkers _workers = null!;

    public async Task InitializeAsync() => _workers = await BudgetWorkers.StartAsync(1, new Dictionary<string, string?>
    {
        ["Tenancy:Tenants:metered:ModelTokensPerMinute"] = "100000",
        ["Tenancy:Tenants:metered:MaxConcurrentModelCalls"] = "4",
        ["Tenancy:Budgets:StoreProbeInterval"] = "00:00:01",
    }, redis: true);

    [Fact]
    public async Task RunAsync_RedisStoppedMidway_ModelCallsContinueDegradedAndRecoverWhenRedisReturns()
    {
        ModelBudget budget = _workers.BudgetOf(1);
        using var degradations = new DegradationCounter(_workers.Hosts[0].Services.GetRequiredService<IMeterFactory>());
        Assert.False(string.IsNullOrEmpty(await (await _workers.StartRunAsync("metered", "Before the outage.")).GetResultAsync()));
        Assert.False(budget.IsDegraded);
        Assert.True((await budget.UsageAsync("metered", CancellationToken.None)).TokensLastMinute > 0);

        await _workers.Redis!.StopAsync();
        string during = await (await _workers.StartRunAsync("metered", "During the outage.")).GetResultAsync();

        Assert.False(string.IsNullOrEmpty(during));
        Assert.True(budget.IsDegraded, "the worker granted from its local share");
        Assert.Equal(1, degradations.Count);

        await _workers.Redis.RestartAsync();
        await Eventually.TrueAsync(async () =>
        {
            await (await _workers.StartRunAsync("metered", "After the outage.")).GetResultAsync();
            return !budget.IsDegraded;
        }, TimeSpan.FromSeconds(60), "the worker goes back to the shared budget");
        // The restarted Redis (no persistence) holds the usage of the calls since it came back.
        Assert.True((await budget.UsageAsync("metered", CancellationToken.None)).TokensLastMinute > 0);
        Assert.Equal(1, degradations.Count);
    }

    public async Task DisposeAsync() => await _workers.DisposeAsync();

    /// <summary>tenancy.budget.degraded of one host's meter factory.</summary>
    private sealed class DegradationCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public DegradationCounter(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == scope && instrument.Meter.Name == ModelBudgetMetrics.MeterName && instrument.Name == "tenancy.budget.degraded")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
