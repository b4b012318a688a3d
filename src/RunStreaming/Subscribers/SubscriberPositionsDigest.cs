namespace AgentOrchestrator.RunStreaming.Subscribers;

/// <summary>Bus message: a gateway's changed subscriber positions since its last digest (empty: a heartbeat).</summary>
public sealed record SubscriberPositionsDigest
{
    public required string InstanceId { get; init; }

    public required DateTimeOffset SentAt { get; init; }

    public required IReadOnlyList<SubscriberPosition> Entries { get; init; }
}
