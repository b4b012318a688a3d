namespace AgentOrchestrator.ModelSimulator;

/// <summary>Point-in-time copy of <see cref="ModelSimulatorMetrics"/>.</summary>
public sealed record ModelSimulatorStats(
    long Requests,
    long Streams,
    long CompletedStreams,
    long CanceledStreams,
    long CanceledRequests,
    long CutStreams,
    long InjectedFaults,
    long LastCanceledStreamAtUs);
