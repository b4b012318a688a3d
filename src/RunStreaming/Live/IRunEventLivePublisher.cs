namespace AgentOrchestrator.RunStreaming.Live;

/// <summary>
/// Sends appended log entries to the gateways that watch their run. Best effort by design: the log already holds the
/// entry, and a gateway that misses one fills the gap from the log, so a failed send is counted and logged, never
/// thrown at the publisher (a broker outage does not fail model steps).
/// </summary>
internal interface IRunEventLivePublisher
{
    ValueTask PublishAsync(RunLogAppended appended, CancellationToken cancellationToken);
}
