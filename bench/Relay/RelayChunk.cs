namespace AgentOrchestrator.Relay;

/// <summary>One streamed chunk's text and the model's emit stamp (Unix µs, 0 when the model gave none).</summary>
public sealed record RelayChunk(string Text, long EmittedAtUs);
