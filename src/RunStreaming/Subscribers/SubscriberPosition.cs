namespace AgentOrchestrator.RunStreaming.Subscribers;

/// <summary>
/// What a gateway knows about one subscriber: what it was sent (<see cref="Delivered"/>) and what it says it has
/// rendered (<see cref="Acknowledged"/>), both event ids. Served by GET /v1/runs/{runId}/subscribers and shared
/// between gateways in <see cref="SubscriberPositionsDigest"/>.
/// </summary>
public sealed record SubscriberPosition
{
    public required string SubscriptionId { get; init; }

    public required string TenantId { get; init; }

    public required string RunId { get; init; }

    public string? Subject { get; init; }

    /// <summary>"signalr" or "sse".</summary>
    public required string Transport { get; init; }

    /// <summary>The gateway instance that serves (or last served) the subscriber.</summary>
    public required string GatewayInstance { get; init; }

    public string? Delivered { get; init; }

    public string? Acknowledged { get; init; }

    /// <summary>Events sent but not (yet) acknowledged, as far as the serving gateway can tell.</summary>
    public long Lag { get; init; }

    /// <summary>Largest (estimated) size this subscriber's outbound queue reached on its serving gateway, in bytes.</summary>
    public long PeakQueuedBytes { get; init; }

    /// <summary>Token deltas merged for this subscriber because it fell behind.</summary>
    public long Coalesced { get; init; }

    public required bool Connected { get; init; }

    public required DateTimeOffset ConnectedAt { get; init; }

    public DateTimeOffset? LastAckAt { get; init; }

    /// <summary>When the serving gateway last changed this record (newest wins between gateways).</summary>
    public required DateTimeOffset UpdatedAt { get; init; }
}
