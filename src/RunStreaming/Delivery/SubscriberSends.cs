using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Telemetry;

namespace AgentOrchestrator.RunStreaming.Delivery;

/// <summary>
/// One subscription's sends: each waits for a <see cref="DeliveryScheduler"/> grant, which is held until the transport
/// took the event (the subscription asks for its next one, or ends); counted per tenant, with the latency a person
/// sees: time to first token (only for a subscriber that waited for it live), gaps between live tokens of a step attempt,
/// and each live token's latency from the model's emit stamp.
/// </summary>
internal sealed class SubscriberSends(DeliveryScheduler scheduler, TenantDeliveryMetrics metrics, RunStreamMetrics streamMetrics, RunStartClock starts,
    TimeProvider time, string tenantId, string runId) : IDisposable
{
    private DeliveryGrant _grant;
    private DateTimeOffset? _runStartedAt;
    private bool _tokenSeen;
    private string? _lastStep;
    private int _lastAttempt;
    private long _lastTokenAt;

    /// <summary>Waits for capacity, then returns <paramref name="runEvent"/> to be sent. <paramref name="live"/>: from the live queue, not a replay.</summary>
    public async ValueTask<RunEvent> SendAsync(RunEvent runEvent, bool live, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        Release();
        var bytes = DeliveryCost.EstimateBytes(runEvent);
        _grant = await scheduler.AcquireAsync(tenantId, bytes, cancellationToken);
        metrics.Delivered(tenantId, bytes);
        Observe(runEvent, live);
        return runEvent;
    }

    /// <summary>The previous event went out (the subscription asked for the next one): its capacity is free again.</summary>
    public void Release()
    {
        var grant = _grant;
        _grant = default;
        grant.Dispose();
    }

    public void Dispose() => Release();

    private void Observe(RunEvent runEvent, bool live)
    {
        if (runEvent.Type == RunEventTypes.RunStarted)
        {
            _runStartedAt = runEvent.Ts;
            return;
        }
        if (runEvent.Type != RunEventTypes.Token)
        {
            return;
        }
        if (live)
        {
            streamMetrics.LiveTokenDelivered(runEvent);
        }
        var now = time.GetTimestamp();
        if (!_tokenSeen)
        {
            _tokenSeen = true;
            // A subscriber whose first token came in a replay did not wait for it.
            if (live && (starts.SinceAccepted(runId) ?? (time.GetUtcNow() - _runStartedAt)) is { } latency && latency >= TimeSpan.Zero)
            {
                metrics.TimeToFirstToken(tenantId, latency);
            }
        }
        else if (live && _lastTokenAt != 0 && runEvent.Attempt == _lastAttempt && string.Equals(runEvent.Step, _lastStep, StringComparison.Ordinal))
        {
            metrics.InterToken(tenantId, time.GetElapsedTime(_lastTokenAt, now));
        }
        _lastTokenAt = live ? now : 0;
        _lastStep = runEvent.Step;
        _lastAttempt = runEvent.Attempt;
    }
}
