using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Tenancy.Budgets;

/// <summary>
/// The budget held by this process only: the store for Tenancy:Store = InMemory (the embedded host, where every part
/// shares one process), and the local fallback while Redis is unreachable. Same arithmetic as the Redis scripts
/// (<see cref="RedisModelBudgetStore"/>); one lock per tenant, never held across an await.
/// </summary>
public sealed class InMemoryModelBudgetStore(IOptionsMonitor<ModelBudgetOptions> options, TimeProvider time) : IModelBudgetStore
{
    private readonly ConcurrentDictionary<string, TenantState> _tenants = new(StringComparer.Ordinal);

    public Task<Admission> AdmitAsync(ModelCallRequest request, BudgetLimits limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        ModelBudgetOptions o = options.CurrentValue;
        TenantState state = _tenants.GetOrAdd(request.Tenant, _ => new TenantState());
        double now = NowMs();
        lock (state)
        {
            state.Purge(now);
            double readyAt = now;
            BudgetReason reason = BudgetReason.None;
            if (state.Reservations.TryGetValue(request.CallId, out Reservation? held))
            {
                readyAt = held.ReadyAt;
                reason = held.Reason;
            }
            else
            {
                double tokens = state.Tokens.Level(limits.TokensPerMinute, 60_000, now);
                double cost = state.Cost.Level((double?)limits.CostPerHour, 3_600_000, now);
                bool tokensShort = limits.TokensPerMinute is not null && tokens < request.EstimatedTokens;
                bool costShort = limits.CostPerHour is not null && cost < (double)request.EstimatedCost;
                if (limits.OverBudget == OverBudgetBehavior.Fail && (tokensShort || costShort))
                {
                    return Task.FromResult(new Admission(AdmissionOutcome.Rejected, tokensShort ? BudgetReason.TokenBudget : BudgetReason.CostBudget, TimeSpan.Zero));
                }
                if (tokensShort)
                {
                    readyAt = now + Math.Ceiling((request.EstimatedTokens - tokens) / ((double)limits.TokensPerMinute!.Value / 60_000));
                    reason = BudgetReason.TokenBudget;
                }
                if (costShort)
                {
                    double at = now + Math.Ceiling(((double)request.EstimatedCost - cost) / ((double)limits.CostPerHour!.Value / 3_600_000));
                    if (at > readyAt)
                    {
                        readyAt = at;
                        reason = BudgetReason.CostBudget;
                    }
                }
                state.Tokens.Draw(limits.TokensPerMinute is null ? 0 : request.EstimatedTokens);
                state.Cost.Draw(limits.CostPerHour is null ? 0 : (double)request.EstimatedCost);
            }

            if (readyAt > now)
            {
                state.Reservations[request.CallId] = new Reservation(readyAt, reason, readyAt + o.ReservationGrace.TotalMilliseconds);
                state.Waits++;
                return Task.FromResult(new Admission(AdmissionOutcome.Wait, reason, TimeSpan.FromMilliseconds(readyAt - now)));
            }
            if (limits.MaxConcurrentCalls is { } max && !state.Slots.ContainsKey(request.CallId) && state.Slots.Count >= max)
            {
                state.Reservations[request.CallId] = new Reservation(now, BudgetReason.None, now + o.ReservationGrace.TotalMilliseconds);
                state.Waits++;
                return Task.FromResult(new Admission(AdmissionOutcome.Wait, BudgetReason.ModelConcurrency, o.SlotRetryDelay));
            }
            // Every admitted call holds a lease, limited or not: the usage report counts calls in flight from them.
            state.Slots[request.CallId] = now + o.SlotLease.TotalMilliseconds;
            state.Reservations.Remove(request.CallId);
            return Task.FromResult(Admission.Admitted);
        }
    }

    public Task SettleAsync(ModelCallRequest request, BudgetLimits limits, long actualTokens, decimal actualCost, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        TenantState state = _tenants.GetOrAdd(request.Tenant, _ => new TenantState());
        double now = NowMs();
        lock (state)
        {
            if (limits.TokensPerMinute is not null)
            {
                state.Tokens.Level(limits.TokensPerMinute, 60_000, now);
                state.Tokens.Draw(actualTokens - request.EstimatedTokens);
            }
            if (limits.CostPerHour is not null)
            {
                state.Cost.Level((double?)limits.CostPerHour, 3_600_000, now);
                state.Cost.Draw((double)(actualCost - request.EstimatedCost));
            }
            state.Slots.Remove(request.CallId);
            state.Record(now, actualTokens, actualCost);
        }
        return Task.CompletedTask;
    }

    public Task RenewAsync(ModelCallRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_tenants.TryGetValue(request.Tenant, out TenantState? state))
        {
            lock (state)
            {
                if (state.Slots.ContainsKey(request.CallId))
                {
                    state.Slots[request.CallId] = NowMs() + options.CurrentValue.SlotLease.TotalMilliseconds;
                }
            }
        }
        return Task.CompletedTask;
    }

    public Task<BudgetUsage> UsageAsync(string tenant, CancellationToken cancellationToken)
    {
        if (!_tenants.TryGetValue(tenant, out TenantState? state))
        {
            return Task.FromResult(default(BudgetUsage));
        }
        double now = NowMs();
        lock (state)
        {
            state.Purge(now);
            return Task.FromResult(state.Usage(now));
        }
    }

    private double NowMs() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private sealed record Reservation(double ReadyAt, BudgetReason Reason, double ExpiresAt);

    /// <summary>A bucket that starts full, refills continuously up to its capacity and may go below zero (debt).</summary>
    private sealed class Bucket
    {
        private double _level = double.NaN;
        private double _at;

        /// <summary>Refills to <paramref name="now"/>; capacity = the limit per <paramref name="periodMs"/>.</summary>
        public double Level(double? limit, double periodMs, double now)
        {
            if (limit is not { } capacity)
            {
                return double.PositiveInfinity;
            }
            _level = double.IsNaN(_level) ? capacity : Math.Min(capacity, _level + (Math.Max(0, now - _at) * capacity / periodMs));
            _at = now;
            return _level;
        }

        public void Draw(double amount)
        {
            if (!double.IsNaN(_level))
            {
                _level -= amount;
            }
        }
    }

    private sealed class TenantState
    {
        private const long TokenSlotMs = 10_000;
        private const long CostSlotMs = 60_000;
        private readonly Dictionary<long, long> _tokensBySlot = [];
        private readonly Dictionary<long, decimal> _costBySlot = [];

        public Bucket Tokens { get; } = new();

        public Bucket Cost { get; } = new();

        public Dictionary<string, Reservation> Reservations { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, double> Slots { get; } = new(StringComparer.Ordinal);

        public long Waits { get; set; }

        public void Purge(double now)
        {
            // Dictionary allows Remove while enumerating: no copy of the keys on every admission.
            foreach ((string callId, Reservation reservation) in Reservations)
            {
                if (reservation.ExpiresAt <= now)
                {
                    Reservations.Remove(callId);
                }
            }
            foreach ((string callId, double expiresAt) in Slots)
            {
                if (expiresAt <= now)
                {
                    Slots.Remove(callId);
                }
            }
        }

        public void Record(double now, long tokens, decimal cost)
        {
            long tokenSlot = (long)now / TokenSlotMs;
            long costSlot = (long)now / CostSlotMs;
            _tokensBySlot[tokenSlot] = _tokensBySlot.GetValueOrDefault(tokenSlot) + tokens;
            _costBySlot[costSlot] = _costBySlot.GetValueOrDefault(costSlot) + cost;
            foreach (long slot in _tokensBySlot.Keys)
            {
                if (slot <= tokenSlot - 6)
                {
                    _tokensBySlot.Remove(slot);
                }
            }
            foreach (long slot in _costBySlot.Keys)
            {
                if (slot <= costSlot - 60)
                {
                    _costBySlot.Remove(slot);
                }
            }
        }

        public BudgetUsage Usage(double now)
        {
            long tokenSlot = (long)now / TokenSlotMs;
            long costSlot = (long)now / CostSlotMs;
            long tokens = _tokensBySlot.Where(s => s.Key > tokenSlot - 6).Sum(s => s.Value);
            decimal cost = _costBySlot.Where(s => s.Key > costSlot - 60).Sum(s => s.Value);
            return new BudgetUsage(tokens, cost, Slots.Count, Waits);
        }
    }
}
