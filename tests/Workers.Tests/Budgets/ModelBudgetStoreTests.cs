using AgentOrchestrator.Tenancy;
using AgentOrchestrator.Tenancy.Budgets;
using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentOrchestrator.Workers.Tests.Budgets;

/// <summary>
/// The same budget behaviour from both stores: the in-process one on a fake clock (exact arithmetic), the Redis one
/// on a real redis-server and Redis's own clock (tolerances cover the time the test itself takes).
/// </summary>
public abstract class ModelBudgetStoreTests
{
    private static readonly BudgetLimits Tokens600 = new(600, null, null, OverBudgetBehavior.Wait);

    protected static IOptionsMonitor<ModelBudgetOptions> Options(TimeSpan? slotLease = null) =>
        new StaticOptions<ModelBudgetOptions>(new ModelBudgetOptions
        {
            SlotLease = slotLease ?? TimeSpan.FromSeconds(60),
            SlotRetryDelay = TimeSpan.FromMilliseconds(700),
            KeyPrefix = "test:" + Guid.NewGuid().ToString("N"),
        });

    protected abstract IModelBudgetStore Store { get; }

    /// <summary>How far a measured wait may fall short of the exact one (refill during the test itself).</summary>
    protected abstract TimeSpan Slack { get; }

    private static ModelCallRequest Call(string tenant, long tokens, decimal cost = 0m, string? id = null) =>
        new(tenant, id ?? Guid.NewGuid().ToString("N"), "sim-1", tokens, cost);

    [Fact]
    public async Task AdmitAsync_WithinCapacity_AdmitsThenMakesTheNextCallWaitForTheRefill()
    {
        string tenant = Tenant();
        Assert.Equal(AdmissionOutcome.Admitted, (await Store.AdmitAsync(Call(tenant, 500), Tokens600, default)).Outcome);

        Admission waiting = await Store.AdmitAsync(Call(tenant, 300), Tokens600, default);

        // 100 left, 200 missing at 10 tokens/s: 20 s.
        Assert.Equal(AdmissionOutcome.Wait, waiting.Outcome);
        Assert.Equal(BudgetReason.TokenBudget, waiting.Reason);
        Assert.InRange(waiting.RetryAfter, TimeSpan.FromSeconds(20) - Slack, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task AdmitAsync_WaitingCallComesBack_KeepsItsReservationAndLaterCallsQueueBehindIt()
    {
        string tenant = Tenant();
        await Store.AdmitAsync(Call(tenant, 600), Tokens600, default);
        ModelCallRequest first = Call(tenant, 100);
        Admission firstWait = await Store.AdmitAsync(first, Tokens600, default);

        Admission again = await Store.AdmitAsync(first, Tokens600, default);
        Admission second = await Store.AdmitAsync(Call(tenant, 100), Tokens600, default);

        // The same call is not charged twice; the next one is behind it (20 s, not 10 s).
        Assert.InRange(again.RetryAfter, firstWait.RetryAfter - Slack, firstWait.RetryAfter);
        Assert.InRange(second.RetryAfter, TimeSpan.FromSeconds(20) - Slack, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task AdmitAsync_FailPolicyOverBudget_RejectsAndDrawsNothing()
    {
        string tenant = Tenant();
        var fail = Tokens600 with { OverBudget = OverBudgetBehavior.Fail };
        await Store.AdmitAsync(Call(tenant, 500), fail, default);

        Admission rejected = await Store.AdmitAsync(Call(tenant, 200), fail, default);
        Admission small = await Store.AdmitAsync(Call(tenant, 90), fail, default);

        Assert.Equal(new Admission(AdmissionOutcome.Rejected, BudgetReason.TokenBudget, TimeSpan.Zero), rejected);
        Assert.Equal(AdmissionOutcome.Admitted, small.Outcome);
    }

    [Fact]
    public async Task AdmitAsync_CostBudget_WaitsOnCostAndFailPolicyRejectsWithCostReason()
    {
        string tenant = Tenant();
        var cost = new BudgetLimits(null, 3.6m, null, OverBudgetBehavior.Wait);
        await Store.AdmitAsync(Call(tenant, 10, 3.5m), cost, default);

        Admission waiting = await Store.AdmitAsync(Call(tenant, 10, 0.3m), cost, default);
        Admission rejected = await Store.AdmitAsync(Call(tenant, 10, 0.3m), cost with { OverBudget = OverBudgetBehavior.Fail }, default);

        // 0.1 left, 0.2 missing at 0.001 per second: 200 s.
        Assert.Equal(AdmissionOutcome.Wait, waiting.Outcome);
        Assert.Equal(BudgetReason.CostBudget, waiting.Reason);
        Assert.InRange(waiting.RetryAfter, TimeSpan.FromSeconds(200) - Slack, TimeSpan.FromSeconds(200));
        Assert.Equal(BudgetReason.CostBudget, rejected.Reason);
        Assert.Equal(AdmissionOutcome.Rejected, rejected.Outcome);
    }

    [Fact]
    public async Task SettleAsync_ActualAboveEstimate_TheDebtDelaysTheNextCall()
    {
        string tenant = Tenant();
        ModelCallRequest call = Call(tenant, 100);
        await Store.AdmitAsync(call, Tokens600, default);

        await Store.SettleAsync(call, Tokens600, 650, 0m, default);
        Admission next = await Store.AdmitAsync(Call(tenant, 50), Tokens600, default);

        // 600 - 650 = -50; 50 more: 100 missing at 10/s = 10 s.
        Assert.InRange(next.RetryAfter, TimeSpan.FromSeconds(10) - Slack, TimeSpan.FromSeconds(10));
        BudgetUsage usage = await Store.UsageAsync(tenant, default);
        Assert.Equal(650, usage.TokensLastMinute);
        Assert.Equal(1, usage.Waits);
    }

    [Fact]
    public async Task AdmitAsync_ConcurrencyLimit_SecondCallWaitsUntilTheFirstSettles()
    {
        string tenant = Tenant();
        var oneAtATime = new BudgetLimits(null, null, 1, OverBudgetBehavior.Fail);
        ModelCallRequest first = Call(tenant, 10);
        ModelCallRequest second = Call(tenant, 10);
        await Store.AdmitAsync(first, oneAtATime, default);

        Admission waiting = await Store.AdmitAsync(second, oneAtATime, default);
        Assert.Equal(1, (await Store.UsageAsync(tenant, default)).CallsInFlight);
        await Store.SettleAsync(first, oneAtATime, 10, 0m, default);
        Admission admitted = await Store.AdmitAsync(second, oneAtATime, default);

        Assert.Equal(new Admission(AdmissionOutcome.Wait, BudgetReason.ModelConcurrency, TimeSpan.FromMilliseconds(700)), waiting);
        Assert.Equal(AdmissionOutcome.Admitted, admitted.Outcome);
    }

    [Fact]
    public async Task AdmitAsync_OneTenantExhausted_AnotherTenantIsAdmitted()
    {
        string noisy = Tenant();
        await Store.AdmitAsync(Call(noisy, 600), Tokens600, default);
        Assert.Equal(AdmissionOutcome.Wait, (await Store.AdmitAsync(Call(noisy, 100), Tokens600, default)).Outcome);

        Assert.Equal(AdmissionOutcome.Admitted, (await Store.AdmitAsync(Call(Tenant(), 600), Tokens600, default)).Outcome);
    }

    private static string Tenant() => "t" + Guid.NewGuid().ToString("N")[..8];

    private sealed class StaticOptions<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}

public sealed class InMemoryModelBudgetStoreTests : ModelBudgetStoreTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public InMemoryModelBudgetStoreTests() => Store = new InMemoryModelBudgetStore(Options(TimeSpan.FromSeconds(5)), _time);

    protected override IModelBudgetStore Store { get; }

    protected override TimeSpan Slack => TimeSpan.Zero;

    [Fact]
    public async Task AdmitAsync_TimePasses_TheBucketRefillsToCapacityAndNoFurther()
    {
        var limits = new BudgetLimits(600, null, null, OverBudgetBehavior.Fail);
        await Store.AdmitAsync(new ModelCallRequest("t", "a", "m", 600, 0m), limits, default);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(AdmissionOutcome.Rejected, (await Store.AdmitAsync(new ModelCallRequest("t", "b", "m", 301, 0m), limits, default)).Outcome);
        Assert.Equal(AdmissionOutcome.Admitted, (await Store.AdmitAsync(new ModelCallRequest("t", "c", "m", 300, 0m), limits, default)).Outcome);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(AdmissionOutcome.Rejected, (await Store.AdmitAsync(new ModelCallRequest("t", "d", "m", 601, 0m), limits, default)).Outcome);
    }

    [Fact]
    public async Task AdmitAsync_SlotLeaseExpires_ACrashedCallsSlotComesBack()
    {
        var oneAtATime = new BudgetLimits(null, null, 1, OverBudgetBehavior.Wait);
        await Store.AdmitAsync(new ModelCallRequest("t", "crashed", "m", 1, 0m), oneAtATime, default);
        Assert.Equal(AdmissionOutcome.Wait, (await Store.AdmitAsync(new ModelCallRequest("t", "next", "m", 1, 0m), oneAtATime, default)).Outcome);

        _time.Advance(TimeSpan.FromSeconds(6));

        Assert.Equal(AdmissionOutcome.Admitted, (await Store.AdmitAsync(new ModelCallRequest("t", "next", "m", 1, 0m), oneAtATime, default)).Outcome);
    }
}

public sealed class RedisModelBudgetStoreTests : ModelBudgetStoreTests, IAsyncLifetime
{
    // Disposed in reverse order at the end (a list, so the analyzers do not take the class for their owner).
    private readonly List<IAsyncDisposable> _owned = [];
    private IModelBudgetStore? _store;

    protected override IModelBudgetStore Store => _store ?? throw new InvalidOperationException("Not started.");

    // The test's own round trips on a loaded machine.
    protected override TimeSpan Slack => TimeSpan.FromSeconds(2);

    public async Task InitializeAsync()
    {
        RedisServer redis = await RedisServer.StartAsync();
        _owned.Add(redis);
        var connection = new TenancyRedis(Microsoft.Extensions.Options.Options.Create(new TenancyOptions { Store = TenancyStore.Redis, Redis = redis.Configuration }));
        _owned.Add(connection);
        _store = new RedisModelBudgetStore(connection, Options(TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task AdmitAsync_SlotLeaseExpires_ACrashedCallsSlotComesBack()
    {
        var oneAtATime = new BudgetLimits(null, null, 1, OverBudgetBehavior.Wait);
        await Store.AdmitAsync(new ModelCallRequest("t", "crashed", "m", 1, 0m), oneAtATime, default);
        Assert.Equal(AdmissionOutcome.Wait, (await Store.AdmitAsync(new ModelCallRequest("t", "next", "m", 1, 0m), oneAtATime, default)).Outcome);

        await Eventually.TrueAsync(async () =>
            (await Store.AdmitAsync(new ModelCallRequest("t", "next", "m", 1, 0m), oneAtATime, default)).Outcome == AdmissionOutcome.Admitted,
            TimeSpan.FromSeconds(30), "the crashed call's 3 s lease expires");
    }

    public async Task DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
    }
}
