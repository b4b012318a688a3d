using System.Diagnostics.Metrics;

namespace AgentOrchestrator.RunStreaming.Telemetry;

/// <summary>The run-event log and live routing, on meter "AgentOrchestrator.RunStreaming" (workers and gateways).</summary>
internal sealed class RunEventPathMetrics
{
    public const string MeterName = "AgentOrchestrator.RunStreaming";

    private readonly Counter<long> _livePublishFailed;
    private readonly Counter<long> _liveReceived;
    private readonly Counter<long> _liveUnreadable;
    private readonly Counter<long> _liveReconnects;
    private readonly Counter<long> _gapsFilled;
    private readonly Counter<long> _logReads;
    private readonly Counter<long> _epochResets;
    private readonly Counter<long> _unreadableEntries;
    private readonly UpDownCounter<long> _watchedRuns;

    public RunEventPathMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _livePublishFailed = meter.CreateCounter<long>("run_events.live.publish_failed", "{message}", "Live sends that failed (the entries stay in the log; gateways read them from there)");
        _liveReceived = meter.CreateCounter<long>("run_events.live.received", "{message}", "Live entries a gateway received for the runs it watches");
        _liveUnreadable = meter.CreateCounter<long>("run_events.live.unreadable", "{message}", "Live messages without a position or not readable (their entries are read from the log)");
        _liveReconnects = meter.CreateCounter<long>("run_events.live.reconnects", "{reconnect}", "Times a gateway lost its live connection");
        _gapsFilled = meter.CreateCounter<long>("run_events.gaps_filled", "{entry}", "Entries a gateway read from the log because they did not arrive live in time");
        _logReads = meter.CreateCounter<long>("run_events.log.reads", "{read}", "Reads of a run's log by a gateway (tag reason: load, gap, catch-up)");
        _epochResets = meter.CreateCounter<long>("run_events.epoch_resets", "{run}", "Runs whose log was replaced (expired or lost) while a gateway watched them");
        _unreadableEntries = meter.CreateCounter<long>("run_events.log.unreadable", "{entry}", "Log entries that could not be read or did not belong to their run (skipped, logged)");
        _watchedRuns = meter.CreateUpDownCounter<long>("run_events.watched_runs", "{run}", "Runs this gateway holds and receives live (its subscribers' runs)");
    }

    public void LivePublishFailed() => _livePublishFailed.Add(1);

    public void LiveReceived() => _liveReceived.Add(1);

    public void LiveUnreadable() => _liveUnreadable.Add(1);

    public void LiveReconnected() => _liveReconnects.Add(1);

    public void GapFilled(int entries) => _gapsFilled.Add(entries);

    /// <param name="reason">"load" (first subscriber), "gap" (entries missing live) or "catch-up" (after a reconnect or a quiet spell).</param>
    public void LogRead(string reason) => _logReads.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void EpochReset() => _epochResets.Add(1);

    public void UnreadableEntry() => _unreadableEntries.Add(1);

    public void WatchedRuns(int delta) => _watchedRuns.Add(delta);
}
