using AgentOrchestrator.RunStreaming.Subscribers;
using AgentOrchestrator.RunStreaming.Telemetry;
using AgentOrchestrator.Tenancy;

namespace AgentOrchestrator.RunStreaming.Subscriptions;

/// <summary>
/// The subscribe preamble every transport calls, so they all keep the same rules: cursor length, subscription id
/// format, a subscription id belongs to one run, resume from the acknowledged position when no cursor is given, the
/// run must exist in the caller's tenant, then the subscriber is registered. Cheap checks come before the lookup.
/// </summary>
public sealed class RunSubscriptions
{
    public const int MaxCursorLength = 512;

    private readonly SubscriberRegistry _registry;
    private readonly RunEventStreamer _streamer;
    private readonly IRunLookup _runs;
    private readonly DeliveryMetrics _metrics;

    internal RunSubscriptions(SubscriberRegistry registry, RunEventStreamer streamer, IRunLookup runs, DeliveryMetrics metrics)
    {
        _registry = registry;
        _streamer = streamer;
        _runs = runs;
        _metrics = metrics;
    }

    /// <summary>Opens a subscription, or says why not (invalid_request or run_not_found; nothing is registered then).</summary>
    public async Task<SubscribeOutcome> SubscribeAsync(RunSubscribeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var transport = request.Transport;
        var cursor = request.Cursor;
        if (cursor?.Length > MaxCursorLength)
        {
            return SubscribeOutcome.Of(SubscribeError.InvalidRequest("cursor",
                $"{transport.CursorName} must be an event id of at most {MaxCursorLength} characters."));
        }
        SubscriberPosition? known = null;
        if (request.SubscriptionId is { } subscriptionId)
        {
            if (!TenantPolicyValidation.IsValidTenantId(subscriptionId))
            {
                return SubscribeOutcome.Of(SubscribeError.InvalidRequest("subscriptionId",
                    "subscriptionId must be 1 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit."));
            }
            known = _registry.Find(request.TenantId, subscriptionId);
            if (known is not null && known.RunId != request.RunId)
            {
                return SubscribeOutcome.Of(SubscribeError.InvalidRequest("subscriptionId",
                    "This subscription id belongs to another run; choose a new one per run."));
            }
        }
        if (string.IsNullOrEmpty(cursor))
        {
            cursor = known?.Acknowledged;
        }
        if (!await _runs.ExistsAsync(request.TenantId, request.RunId, cancellationToken))
        {
            return SubscribeOutcome.Of(SubscribeError.RunNotFound);
        }
        var subscriber = _registry.Open(request.TenantId, request.RunId, request.SubscriptionId ?? Guid.NewGuid().ToString("N"), request.Subject,
            transport.Name);
        if (transport.AcknowledgesResumeCursor && !string.IsNullOrEmpty(cursor))
        {
            subscriber.Acknowledge(cursor);
        }
        return SubscribeOutcome.Of(new RunSubscription(_streamer, subscriber, _metrics, request.TenantId, request.RunId, cursor, request.Timed));
    }

    /// <summary>Null when <paramref name="cursor"/> may be acknowledged (an event id of 1 to <see cref="MaxCursorLength"/> characters).</summary>
    public static SubscribeError? CheckAckCursor(string? cursor) =>
        string.IsNullOrEmpty(cursor) || cursor.Length > MaxCursorLength
            ? SubscribeError.InvalidRequest("cursor", $"cursor must be an event id of 1 to {MaxCursorLength} characters.")
            : null;

    /// <summary>Every known subscriber of a run (this gateway's and the others'), the newest record per subscription.</summary>
    public IReadOnlyList<SubscriberPosition> List(string tenantId, string runId) => _registry.List(tenantId, runId);
}
