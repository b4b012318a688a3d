namespace AgentOrchestrator.RunStreaming.Sources;

/// <summary>
/// Where this gateway is in the run-event stream. Ready means: connected and caught up with the marker published at
/// the last (re)connect, so every event published before that point is in this gateway's tails.
/// </summary>
internal sealed class RunEventStreamState
{
    private volatile bool _connected;
    private volatile bool _caughtUp;
    private long _lastOffset = -1;

    public bool IsReady => _connected && _caughtUp;

    /// <summary>The offset of the last stream message handled (appended, skipped or parked); -1 before the first.</summary>
    public long LastOffset => Interlocked.Read(ref _lastOffset);

    internal void Connected() => _connected = true;

    internal void CaughtUp() => _caughtUp = true;

    internal void Disconnected()
    {
        _connected = false;
        _caughtUp = false;
    }

    internal void Handled(long offset) => Interlocked.Exchange(ref _lastOffset, offset);
}
