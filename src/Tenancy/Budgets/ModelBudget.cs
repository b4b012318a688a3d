using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Tenancy.Budgets;

/// <summary>What a model call learns before it starts.</summary>
public sealed record ModelBudgetDecision(AdmissionOutcome Outcome, BudgetReason Reason, TimeSpan RetryAfter, ModelCallLease? Lease);

/// <summary>
/// The per-tenant model budget a worker draws from around every model call: reads the tenant's policy at each call
/// (so a runtime change applies to the next call), estimates the call (prompt characters / 4 + a completion
/// allowance, priced with Tenancy:Prices), and asks the shared store. When the shared store is unreachable it grants
/// from a local store holding Tenancy:Budgets:DegradedShare of each budget, logs once per outage, counts it, and tries
/// the shared store again every StoreProbeInterval until it answers.
/// </summary>
public sealed partial class ModelBudget
{
    private readonly ITenantPolicyProvider _policies;
    private readonly IModelBudgetStore _store;
    private readonly InMemoryModelBudgetStore _local;
    private readonly IOptionsMonitor<ModelBudgetOptions> _options;
    private readonly IOptionsMonitor<ModelPriceOptions> _prices;
    private readonly ModelBudgetMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelBudget> _logger;
    private readonly ConcurrentDictionary<string, bool> _unpricedModels = new(StringComparer.Ordinal);
    private readonly Lock _degradedLock = new();
    private bool _degraded;
    private DateTimeOffset _nextProbe;

    public ModelBudget(ITenantPolicyProvider policies, IModelBudgetStore store, IOptionsMonitor<ModelBudgetOptions> options,
        IOptionsMonitor<ModelPriceOptions> prices, ModelBudgetMetrics metrics, TimeProvider time, ILogger<ModelBudget> logger)
    {
        _policies = policies;
        _store = store;
        _local = store as InMemoryModelBudgetStore ?? new InMemoryModelBudgetStore(options, time);
        _options = options;
        _prices = prices;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    /// <summary>True while this process grants from its local share because the shared store is unreachable.</summary>
    public bool IsDegraded
    {
        get
        {
            lock (_degradedLock)
            {
                return _degraded;
            }
        }
    }

    internal TimeSpan SlotLease => _options.CurrentValue.SlotLease;

    /// <summary>
    /// Asks for budget for one model call. <paramref name="callId"/> must be the same on every attempt of the call (a
    /// waiting call keeps its reservation). Admitted: the caller must settle the returned lease.
    /// </summary>
    public async Task<ModelBudgetDecision> AdmitAsync(string tenant, string callId, string model, long promptChars, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        ArgumentException.ThrowIfNullOrEmpty(callId);
        ModelBudgetOptions o = _options.CurrentValue;
        BudgetLimits limits = BudgetLimits.Of(_policies.PolicyOf(tenant));
        ModelPrice? price = PriceOf(model);
        long promptTokens = (promptChars + 3) / 4;
        var request = new ModelCallRequest(tenant, callId, model, promptTokens + o.CompletionAllowance,
            price?.CostOf(promptTokens, o.CompletionAllowance) ?? 0m);

        (IModelBudgetStore store, BudgetLimits applied) = Choose(limits, o);
        Admission admission;
        try
        {
            admission = await store.AdmitAsync(request, applied, cancellationToken).ConfigureAwait(false);
            if (store != _local)
            {
                Recovered();
            }
        }
        catch (Exception e) when (TenancyRedis.IsUnavailable(e))
        {
            Degrade(e, o);
            store = _local;
            applied = limits.Scaled(o.DegradedShare);
            admission = await _local.AdmitAsync(request, applied, cancellationToken).ConfigureAwait(false);
        }

        switch (admission.Outcome)
        {
            case AdmissionOutcome.Wait:
                _metrics.Waited(tenant, BudgetReasons.Name(admission.Reason));
                return new ModelBudgetDecision(AdmissionOutcome.Wait, admission.Reason, admission.RetryAfter, null);
            case AdmissionOutcome.Rejected:
                _metrics.Rejected(tenant, BudgetReasons.Name(admission.Reason));
                return new ModelBudgetDecision(AdmissionOutcome.Rejected, admission.Reason, TimeSpan.Zero, null);
            default:
                _metrics.CallStarted(tenant);
                return new ModelBudgetDecision(AdmissionOutcome.Admitted, BudgetReason.None, TimeSpan.Zero,
                    new ModelCallLease(this, store, request, applied, price));
        }
    }

    /// <summary>The tenant's usage as the (shared, when reachable) store knows it.</summary>
    public async Task<BudgetUsage> UsageAsync(string tenant, CancellationToken cancellationToken)
    {
        try
        {
            return await _store.UsageAsync(tenant, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (TenancyRedis.IsUnavailable(e))
        {
            Degrade(e, _options.CurrentValue);
            return await _local.UsageAsync(tenant, cancellationToken).ConfigureAwait(false);
        }
    }

    internal async Task SettleAsync(IModelBudgetStore store, ModelCallRequest request, BudgetLimits limits, long tokens, decimal cost)
    {
        _metrics.CallEnded(request.Tenant);
        _metrics.Consumed(request.Tenant, request.Model, tokens, cost);
        try
        {
            await store.SettleAsync(request, limits, tokens, cost, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (TenancyRedis.IsUnavailable(e))
        {
            // The call already ran; its correction is lost and its slot comes back when the lease expires.
            LogSettleFailed(_logger, e, request.Tenant, tokens);
        }
    }

    internal async Task RenewAsync(IModelBudgetStore store, ModelCallRequest request)
    {
        try
        {
            await store.RenewAsync(request, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (TenancyRedis.IsUnavailable(e))
        {
            LogRenewFailed(_logger, e, request.Tenant);
        }
    }

    private (IModelBudgetStore Store, BudgetLimits Limits) Choose(BudgetLimits limits, ModelBudgetOptions o)
    {
        if (_store == _local)
        {
            return (_store, limits);
        }
        lock (_degradedLock)
        {
            return _degraded && _time.GetUtcNow() < _nextProbe ? (_local, limits.Scaled(o.DegradedShare)) : (_store, limits);
        }
    }

    private void Degrade(Exception e, ModelBudgetOptions o)
    {
        bool entered;
        lock (_degradedLock)
        {
            entered = !_degraded;
            _degraded = true;
            _nextProbe = _time.GetUtcNow() + o.StoreProbeInterval;
        }
        if (entered)
        {
            _metrics.Degraded();
            LogDegraded(_logger, e, o.DegradedShare);
        }
    }

    private void Recovered()
    {
        bool left;
        lock (_degradedLock)
        {
            left = _degraded;
            _degraded = false;
        }
        if (left)
        {
            LogRecovered(_logger);
        }
    }

    private ModelPrice? PriceOf(string model)
    {
        Dictionary<string, ModelPrice> table = _prices.CurrentValue.Models;
        // The simulator's fault suffix ("sim-1@instant") does not change the model's price.
        int at = model.IndexOf('@', StringComparison.Ordinal);
        if (table.TryGetValue(model, out ModelPrice? price) || (at > 0 && table.TryGetValue(model[..at], out price)))
        {
            return price;
        }
        if (table.Count > 0 && _unpricedModels.TryAdd(model, true))
        {
            LogUnpricedModel(_logger, model);
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Model budget: the shared store is unreachable; granting from this process's local share ({Share}) of each tenant's budget until it answers again")]
    private static partial void LogDegraded(ILogger logger, Exception exception, double share);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model budget: the shared store answers again; budgets are shared across processes again")]
    private static partial void LogRecovered(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model budget: model {Model} has no price in Tenancy:Prices; its calls cost 0")]
    private static partial void LogUnpricedModel(ILogger logger, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model budget: could not settle a call of tenant {TenantId} ({Tokens} tokens) in the shared store")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, string tenantId, long tokens);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Model budget: could not renew a slot lease of tenant {TenantId}")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception, string tenantId);
}

/// <summary>
/// An admitted call's hold on the budget: renews its concurrency slot while the call runs, and settles once: with the
/// usage the model reported, with nothing when the model served nothing (429, 503), or (disposed unsettled) with the
/// estimate, because a call that failed midway may have consumed tokens nobody reported.
/// </summary>
public sealed class ModelCallLease : IAsyncDisposable
{
    private readonly ModelBudget _budget;
    private readonly IModelBudgetStore _store;
    private readonly ModelCallRequest _request;
    private readonly BudgetLimits _limits;
    private readonly ModelPrice? _price;
    private readonly CancellationTokenSource _renewStop = new();
    private readonly Task _renewing;
    private int _settled;

    internal ModelCallLease(ModelBudget budget, IModelBudgetStore store, ModelCallRequest request, BudgetLimits limits, ModelPrice? price)
    {
        _budget = budget;
        _store = store;
        _request = request;
        _limits = limits;
        _price = price;
        _renewing = limits.MaxConcurrentCalls is null ? Task.CompletedTask : RenewLoopAsync();
    }

    /// <summary>Settles with the usage the model reported (zero usage: the endpoint reports none; the estimate stands).</summary>
    public Task SettleAsync(int promptTokens, int completionTokens) =>
        promptTokens + completionTokens == 0
            ? SettleOnceAsync(_request.EstimatedTokens, _request.EstimatedCost)
            : SettleOnceAsync(promptTokens + completionTokens, _price?.CostOf(promptTokens, completionTokens) ?? 0m);

    /// <summary>The model served nothing (it refused the call): the reservation goes back to the tenant.</summary>
    public Task RefundAsync() => SettleOnceAsync(0, 0m);

    public async ValueTask DisposeAsync()
    {
        await SettleOnceAsync(_request.EstimatedTokens, _request.EstimatedCost).ConfigureAwait(false);
        _renewStop.Dispose();
    }

    private async Task SettleOnceAsync(long tokens, decimal cost)
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0)
        {
            return;
        }
        await _renewStop.CancelAsync().ConfigureAwait(false);
        await _renewing.ConfigureAwait(false);
        await _budget.SettleAsync(_store, _request, _limits, tokens, cost).ConfigureAwait(false);
    }

    private async Task RenewLoopAsync()
    {
        // A third of the lease: two renewals can fail before another worker may take the slot.
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, _budget.SlotLease.Ticks / 3)));
        try
        {
            while (await timer.WaitForNextTickAsync(_renewStop.Token).ConfigureAwait(false))
            {
                await _budget.RenewAsync(_store, _request).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Settled.
        }
    }
}
