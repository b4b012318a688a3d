namespace AgentOrchestrator.RunStreaming.Subscriptions;

/// <summary>A caller's request to follow one run's events (protocol: docs/protocol.md).</summary>
public sealed record RunSubscribeRequest
{
    public required string TenantId { get; init; }

    public required string RunId { get; init; }

    /// <summary>
    /// The id the client keeps across reconnects (on any gateway); without a cursor it resumes from this subscription's
    /// acknowledged position. Null: a new id is made up for this connection alone.
    /// </summary>
    public string? SubscriptionId { get; init; }

    /// <summary>The last event id the client has; null or empty: from the beginning (or the acknowledged position).</summary>
    public string? Cursor { get; init; }

    public string? Subject { get; init; }

    public required RunStreamTransport Transport { get; init; }

    /// <summary>
    /// Live token deltas come with the points of their path (<see cref="AgentOrchestrator.Contracts.RunEvent.Trace"/>, up to
    /// gateway.written), for measuring; the transport delivers them (docs/protocol.md "Timed subscriptions").
    /// </summary>
    public bool Timed { get; init; }
}
