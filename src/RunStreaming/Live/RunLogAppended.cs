using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Live;

/// <summary>
/// A message just appended to its run's log, as it travels live to the gateways that watch the run, with the W3C id
/// of the span that published it (null when that publish was not traced).
/// </summary>
public sealed record RunLogAppended(string Epoch, long Seq, RunEventsPublished Message, string? TraceParent = null);
