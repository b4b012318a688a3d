namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>Where an append landed: the log's epoch and the message's sequence number in it.</summary>
public readonly record struct RunLogPosition(string Epoch, long Seq);
