namespace AgentOrchestrator.RunStreaming.Live;

/// <summary>
/// A gateway's feed of live log entries, for the runs it watches only. Entries arrive in the order the transport
/// delivers them (possibly with gaps and duplicates, which the gateway resolves by sequence number against the log).
/// </summary>
internal interface IRunEventLiveSource
{
    /// <summary>Called for every entry of a watched run (on the source's delivery thread; handlers must not block).</summary>
    event Action<RunLogAppended>? Appended;

    /// <summary>Called after the source lost its transport and got it back: entries sent meanwhile may be missing.</summary>
    event Action? Reconnected;

    /// <summary>The transport tag of metrics: "rabbitmq" or "in-process".</summary>
    string Transport { get; }

    /// <summary>Whether live entries can arrive now (readiness).</summary>
    bool IsConnected { get; }

    /// <summary>Starts delivering the run's entries; returns once every entry sent after this returns will arrive.</summary>
    ValueTask WatchAsync(string tenantId, string runId, CancellationToken cancellationToken);

    /// <summary>Stops delivering the run's entries (some may still arrive shortly after).</summary>
    ValueTask UnwatchAsync(string tenantId, string runId, CancellationToken cancellationToken);
}
