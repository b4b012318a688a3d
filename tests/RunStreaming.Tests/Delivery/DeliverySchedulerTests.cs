using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Telemetry;
using AgentOrchestrator.Tenancy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.RunStreaming.Tests.Delivery;

/// <summary>The scheduler on its own, with the real tenant policy provider: grant order and slot accounting, no clocks.</summary>
public sealed class DeliverySchedulerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AcquireAsync_Unlimited_GrantsAtOnceAndHoldsNothing()
    {
        await using var services = Services(new Dictionary<string, string?>());
        var scheduler = services.GetRequiredService<DeliveryScheduler>();

        var grants = new List<DeliveryGrant>();
        for (var i = 0; i < 100; i++)
        {
            var pending = scheduler.AcquireAsync("t1", 1_000_000, CancellationToken.None);
            Assert.True(pending.IsCompletedSuccessfully);
            grants.Add(await pending);
        }

        Assert.Equal(0, scheduler.InFlight);
        grants.ForEach(g => g.Dispose());
    }

    [Fact]
    public async Task AcquireAsync_WaiterCanceled_IsWithdrawnAndItsSlotIsNotLost()
    {
        await using var services = Services(new Dictionary<string, string?> { ["Gateway:Delivery:MaxConcurrentSends"] = "1" });
        var scheduler = services.GetRequiredService<DeliveryScheduler>();
        var held = await scheduler.AcquireAsync("t1", 100, CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        var waiting = scheduler.AcquireAsync("t2", 100, cancel.Token).AsTask();
        Assert.False(waiting.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();

        var next = scheduler.AcquireAsync("t3", 100, CancellationToken.None);
        Assert.True(next.IsCompletedSuccessfully, "the slot freed by the first grant went to the next request, not to the withdrawn one");
        Assert.Equal(1, scheduler.InFlight);
        (await next).Dispose();
        Assert.Equal(0, scheduler.InFlight);
    }

    [Theory]
    [InlineData(1.0, 20)]
    [InlineData(3.0, 30)]
    public async Task AcquireAsync_TwoBackloggedTenants_GrantsBytesInProportionToWeight(double weightOfMany, int expectedManyOf40)
    {
        await using var services = Services(new Dictionary<string, string?>
        {
            ["Gateway:Delivery:MaxConcurrentSends"] = "1",
            ["Tenancy:Tenants:many:FairnessWeight"] = weightOfMany.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var scheduler = services.GetRequiredService<DeliveryScheduler>();
        var held = await scheduler.AcquireAsync("many", 1000, CancellationToken.None);
        // "many" has 60 subscribers waiting, "one" has 60 sends of one subscriber: the split is per tenant, not per request.
        var waiting = new List<(string Tenant, Task<DeliveryGrant> Grant)>();
        for (var i = 0; i < 60; i++)
        {
            waiting.Add(("many", scheduler.AcquireAsync("many", 1000, CancellationToken.None).AsTask()));
            waiting.Add(("one", scheduler.AcquireAsync("one", 1000, CancellationToken.None).AsTask()));
        }

        var order = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            held.Dispose(); // one slot: each release grants exactly one waiter
            var granted = await Task.WhenAny(waiting.Select(w => w.Grant)).WaitAsync(Timeout);
            var index = waiting.FindIndex(w => w.Grant == granted);
            order.Add(waiting[index].Tenant);
            waiting.RemoveAt(index);
            held = await granted;
            Assert.Equal(1, scheduler.InFlight);
        }

        Assert.InRange(order.Count(t => t == "many"), expectedManyOf40 - 2, expectedManyOf40 + 2);
        // Interleaved, not in bursts: "one" never waits for more than the weight's worth of "many" in a row.
        var longestRun = order.Aggregate((Run: 0, Max: 0), (acc, t) => t == "many" ? (acc.Run + 1, Math.Max(acc.Max, acc.Run + 1)) : (0, acc.Max)).Max;
        Assert.True(longestRun <= (int)Math.Ceiling(weightOfMany) + 1, $"longest run of the heavier tenant: {longestRun}");
        held.Dispose();
    }

    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddSingleton(TimeProvider.System)
            .AddMetrics()
            .AddLogging()
            .AddTenancy(configuration);
        services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.SectionName);
        services.AddSingleton<TenantDeliveryMetrics>();
        services.AddSingleton<DeliveryScheduler>();
        var provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<IOptions<DeliveryOptions>>().Value;
        return provider;
    }
}
