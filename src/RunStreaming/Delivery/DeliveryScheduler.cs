using AgentOrchestrator.RunStreaming.Telemetry;
using AgentOrchestrator.Tenancy;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.RunStreaming.Delivery;

/// <summary>
/// This gateway's outbound capacity (Gateway:Delivery:MaxBytesPerSecond and/or MaxConcurrentSends), shared by tenants in
/// proportion to their fairness weight. Every send (one event to one subscriber) asks for a grant; while capacity is
/// free and nobody waits it is granted at once, so an idle or unlimited gateway adds no latency. When demand exceeds
/// capacity, sends queue per tenant and are granted by weighted fair queueing on bytes: each tenant has a virtual time
/// that advances by the bytes it is granted divided by its weight, and the waiting tenant with the lowest one goes next.
/// A tenant's many subscribers therefore share that tenant's part, and a tenant with one subscriber keeps its own part
/// (its virtual time survives the moment between two of its sends). A tenant held back here does not read its
/// subscribers' outboxes, which coalesce its token deltas as for any slow connection: memory stays bounded per subscriber.
/// </summary>
internal sealed class DeliveryScheduler : IDisposable
{
    // A tenant that comes back after a pause may be at most this much virtual time behind: it goes first for about that
    // many bytes (times its weight) and no more, so idling is not banked into a later monopoly.
    private const double CatchUpBytes = 32 * 1024;
    private const long MinBurstBytes = 16 * 1024;
    private static readonly TimeSpan MinRefillDelay = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan LaneSweepInterval = TimeSpan.FromSeconds(30);

    private readonly IOptionsMonitor<DeliveryOptions> _options;
    private readonly ITenantPolicyProvider _policies;
    private readonly TenantDeliveryMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TenantLane> _lanes = new(StringComparer.Ordinal);
    // Tenants with waiting sends, by virtual time (ties: first come first).
    private readonly PriorityQueue<TenantLane, (double VirtualTime, long Sequence)> _ready = new();
    private readonly ITimer _refillTimer;
    private readonly IDisposable? _optionsChange;
    private long _sequence;
    private double _virtualTime;
    private int _inFlight;
    private double _tokens;
    private long _refilledAt;
    private bool _timerArmed;
    private long _sweptAt;

    public DeliveryScheduler(IOptionsMonitor<DeliveryOptions> options, ITenantPolicyProvider policies, TenantDeliveryMetrics metrics, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _options = options;
        _policies = policies;
        _metrics = metrics;
        _time = time;
        _refilledAt = _sweptAt = time.GetTimestamp();
        _tokens = BurstOf(options.CurrentValue);
        _refillTimer = time.CreateTimer(static state => ((DeliveryScheduler)state!).Dispatch(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        // A capacity raised (or removed) at runtime frees waiting sends at once.
        _optionsChange = options.OnChange(_ => Dispatch());
    }

    /// <summary>True when a capacity is configured; otherwise every grant is immediate and nothing is accounted.</summary>
    public static bool IsLimited(DeliveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.MaxBytesPerSecond is not null || options.MaxConcurrentSends is not null;
    }

    /// <summary>Sends of any tenant granted and not yet finished (disposed).</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="tenant"/> may send an event of <paramref name="bytes"/>. Dispose the grant once the
    /// transport took the event: a concurrent-send slot is held until then. Cancellation withdraws the request.
    /// </summary>
    public ValueTask<DeliveryGrant> AcquireAsync(string tenant, long bytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        var limits = _options.CurrentValue;
        if (!IsLimited(limits))
        {
            return ValueTask.FromResult(default(DeliveryGrant));
        }
        Waiter waiter;
        List<Waiter>? granted;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            RefillLocked(limits, now);
            var lane = LaneLocked(tenant, now);
            if (_ready.Count == 0 && HasCapacityLocked(limits))
            {
                lane.VirtualTime = Math.Max(lane.VirtualTime, _virtualTime - CatchUpBytes);
                GrantLocked(lane, bytes, limits);
                _metrics.Waited(tenant, TimeSpan.Zero);
                return ValueTask.FromResult(new DeliveryGrant(this));
            }
            waiter = new Waiter(this, lane, bytes, now);
            lane.Waiting.Enqueue(waiter);
            if (!lane.Ready)
            {
                MakeReadyLocked(lane);
            }
            granted = DispatchLocked(limits);
        }
        Complete(granted);
        return waiter.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        _optionsChange?.Dispose();
        _refillTimer.Dispose();
    }

    internal void Release()
    {
        List<Waiter>? granted = null;
        lock (_gate)
        {
            _inFlight--;
            if (_ready.Count > 0)
            {
                var limits = _options.CurrentValue;
                RefillLocked(limits, _time.GetTimestamp());
                granted = DispatchLocked(limits);
            }
        }
        Complete(granted);
    }

    /// <summary>The refill timer fired or the capacity changed: grant what can be granted now.</summary>
    private void Dispatch()
    {
        List<Waiter>? granted;
        lock (_gate)
        {
            _timerArmed = false;
            var limits = _options.CurrentValue;
            RefillLocked(limits, _time.GetTimestamp());
            granted = DispatchLocked(limits);
        }
        Complete(granted);
    }

    private List<Waiter>? DispatchLocked(DeliveryOptions limits)
    {
        List<Waiter>? granted = null;
        while (HasCapacityLocked(limits) && _ready.TryPeek(out var lane, out _))
        {
            _ready.Dequeue();
            var waiter = lane.NextWaiter();
            if (waiter is null)
            {
                lane.Ready = false; // every request it had was withdrawn
                continue;
            }
            lane.Waiting.Dequeue();
            GrantLocked(lane, waiter.Bytes, limits);
            waiter.Granted = true;
            (granted ??= []).Add(waiter);
            if (lane.NextWaiter() is null)
            {
                lane.Ready = false;
            }
            else
            {
                _ready.Enqueue(lane, (lane.VirtualTime, _sequence++));
            }
        }
        if (_ready.Count > 0 && !_timerArmed && limits.MaxBytesPerSecond is { } rate && _tokens <= 0)
        {
            // Granted bytes may overdraw the bucket (a large event is never starved); waiters go on once it is positive.
            var delay = TimeSpan.FromSeconds((1 - _tokens) / rate);
            _refillTimer.Change(delay < MinRefillDelay ? MinRefillDelay : delay, Timeout.InfiniteTimeSpan);
            _timerArmed = true;
        }
        return granted;
    }

    private void GrantLocked(TenantLane lane, long bytes, DeliveryOptions limits)
    {
        _virtualTime = Math.Max(_virtualTime, lane.VirtualTime);
        // Read at every grant (the policy provider caches per policy snapshot): a weight change applies to the next send.
        lane.VirtualTime += bytes / WeightOf(lane.Tenant);
        _inFlight++;
        if (limits.MaxBytesPerSecond is not null)
        {
            _tokens -= bytes;
        }
    }

    private void MakeReadyLocked(TenantLane lane)
    {
        lane.VirtualTime = Math.Max(lane.VirtualTime, _virtualTime - CatchUpBytes);
        lane.Ready = true;
        _ready.Enqueue(lane, (lane.VirtualTime, _sequence++));
    }

    private bool HasCapacityLocked(DeliveryOptions limits) =>
        (limits.MaxConcurrentSends is not { } sends || _inFlight < sends) && (limits.MaxBytesPerSecond is null || _tokens > 0);

    private void RefillLocked(DeliveryOptions limits, long now)
    {
        if (limits.MaxBytesPerSecond is { } rate)
        {
            _tokens = Math.Min(BurstOf(limits), _tokens + (_time.GetElapsedTime(_refilledAt, now).TotalSeconds * rate));
        }
        _refilledAt = now;
    }

    private TenantLane LaneLocked(string tenant, long now)
    {
        if (_lanes.TryGetValue(tenant, out var lane))
        {
            return lane;
        }
        if (_time.GetElapsedTime(_sweptAt, now) >= LaneSweepInterval)
        {
            // A lane this far behind would be caught up on its next send anyway: forgetting it loses nothing.
            _sweptAt = now;
            foreach (var (name, idle) in _lanes)
            {
                if (!idle.Ready && idle.VirtualTime <= _virtualTime - CatchUpBytes)
                {
                    _lanes.Remove(name);
                }
            }
        }
        lane = new TenantLane(tenant) { VirtualTime = _virtualTime - CatchUpBytes };
        _lanes[tenant] = lane;
        return lane;
    }

    private double WeightOf(string tenant)
    {
        var weight = _policies.PolicyOf(tenant).FairnessWeight;
        // The policy model validates weights; a nonsensical one must still not stall the scheduler.
        return double.IsFinite(weight) && weight > 0 ? Math.Clamp(weight, 1e-3, 1e6) : 1;
    }

    private void Complete(List<Waiter>? granted)
    {
        if (granted is null)
        {
            return;
        }
        var now = _time.GetTimestamp();
        foreach (var waiter in granted)
        {
            _metrics.Waited(waiter.Lane.Tenant, _time.GetElapsedTime(waiter.EnqueuedAt, now));
            _metrics.Contended(waiter.Lane.Tenant, waiter.Bytes);
            waiter.Grant(new DeliveryGrant(this));
        }
    }

    private static long BurstOf(DeliveryOptions limits) =>
        limits.BurstBytes ?? (limits.MaxBytesPerSecond is { } rate ? Math.Max(rate / 20, MinBurstBytes) : MinBurstBytes);

    private sealed class TenantLane(string tenant)
    {
        public string Tenant { get; } = tenant;

        public Queue<Waiter> Waiting { get; } = new();

        public double VirtualTime { get; set; }

        /// <summary>In the ready queue.</summary>
        public bool Ready { get; set; }

        /// <summary>The oldest request still wanted (withdrawn ones are dropped on the way); it stays queued until granted.</summary>
        public Waiter? NextWaiter()
        {
            while (Waiting.TryPeek(out var waiter))
            {
                if (!waiter.Canceled)
                {
                    return waiter;
                }
                Waiting.Dequeue();
            }
            return null;
        }
    }

    private sealed class Waiter(DeliveryScheduler scheduler, TenantLane lane, long bytes, long enqueuedAt)
    {
        private readonly TaskCompletionSource<DeliveryGrant> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TenantLane Lane { get; } = lane;

        public long Bytes { get; } = bytes;

        public long EnqueuedAt { get; } = enqueuedAt;

        public bool Granted { get; set; }

        public bool Canceled { get; private set; }

        public void Grant(DeliveryGrant grant) => _result.TrySetResult(grant);

        public async ValueTask<DeliveryGrant> WaitAsync(CancellationToken cancellationToken)
        {
            if (!cancellationToken.CanBeCanceled || _result.Task.IsCompleted)
            {
                return await _result.Task;
            }
            await using var registration = cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Cancel(token), this);
            return await _result.Task;
        }

        private void Cancel(CancellationToken token)
        {
            lock (scheduler._gate)
            {
                if (Granted)
                {
                    return; // granted first: the caller gets (and frees) the grant
                }
                Canceled = true;
            }
            _result.TrySetCanceled(token);
        }
    }
}

/// <summary>A send in progress; disposing it (once) frees its concurrent-send slot. Default (unlimited): nothing to free.</summary>
internal readonly record struct DeliveryGrant : IDisposable
{
    private readonly DeliveryScheduler? _scheduler;

    internal DeliveryGrant(DeliveryScheduler scheduler) => _scheduler = scheduler;

    public void Dispose() => _scheduler?.Release();
}
