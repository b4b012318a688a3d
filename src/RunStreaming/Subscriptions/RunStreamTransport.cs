namespace AgentOrchestrator.RunStreaming.Subscriptions;

/// <summary>What a subscriber transport (SignalR, SSE, a WebSocket endpoint) tells <see cref="RunSubscriptions"/> about itself.</summary>
/// <param name="Name">The subscriber's transport in its position record and in the delivered-events metric ("signalr", "sse").</param>
/// <param name="CursorName">How this transport's errors name the cursor, e.g. "cursor" or "The cursor (Last-Event-ID or ?cursor=)".</param>
/// <param name="AcknowledgesResumeCursor">
/// The transport has no back channel for acks (SSE): the cursor a client resumes from is what it has, so it is recorded
/// as the subscription's acknowledged position.
/// </param>
public sealed record RunStreamTransport(string Name, string CursorName = "cursor", bool AcknowledgesResumeCursor = false);
