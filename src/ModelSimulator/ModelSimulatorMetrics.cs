namespace AgentOrchestrator.ModelSimulator;

/// <summary>
/// Counters of what the simulator saw, so tests and benchmarks can observe server-side effects
/// (for example that a client closing its connection mid-stream was noticed). Thread-safe.
/// Also served as JSON by <c>GET /v1/sim/stats</c>.
/// </summary>
public sealed class ModelSimulatorMetrics
{
    private long _requests;
    private long _streams;
    private long _completedStreams;
    private long _canceledStreams;
    private long _canceledRequests;
    private long _cutStreams;
    private long _injectedFaults;
    private long _lastCanceledStreamAtUs;

    /// <summary>Chat completion requests received, valid or not.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Streaming responses started.</summary>
    public long Streams => Interlocked.Read(ref _streams);

    /// <summary>Streaming responses that ended with <c>data: [DONE]</c>.</summary>
    public long CompletedStreams => Interlocked.Read(ref _completedStreams);

    /// <summary>Streaming responses stopped because the client went away.</summary>
    public long CanceledStreams => Interlocked.Read(ref _canceledStreams);

    /// <summary>
    /// When the simulator last noticed a streaming client go away (Unix µs, this machine's clock; 0: never), so a test
    /// can time a cancellation from its request to the closed connection as the server saw it.
    /// </summary>
    public long LastCanceledStreamAtUs => Interlocked.Read(ref _lastCanceledStreamAtUs);

    /// <summary>Non-streaming requests whose client went away before the answer was sent.</summary>
    public long CanceledRequests => Interlocked.Read(ref _canceledRequests);

    /// <summary>Responses deliberately aborted by a <c>cut:N</c> fault.</summary>
    public long CutStreams => Interlocked.Read(ref _cutStreams);

    /// <summary>Requests answered with a simulated 429 or 500.</summary>
    public long InjectedFaults => Interlocked.Read(ref _injectedFaults);

    /// <summary>A consistent-enough copy of all counters (each read is atomic on its own).</summary>
    public ModelSimulatorStats Snapshot() => new(
        Requests, Streams, CompletedStreams, CanceledStreams, CanceledRequests, CutStreams, InjectedFaults, LastCanceledStreamAtUs);

    internal void RequestReceived() => Interlocked.Increment(ref _requests);

    internal void StreamStarted() => Interlocked.Increment(ref _streams);

    internal void StreamCompleted() => Interlocked.Increment(ref _completedStreams);

    internal void StreamCanceled()
    {
        Interlocked.Exchange(ref _lastCanceledStreamAtUs, (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks / 10);
        Interlocked.Increment(ref _canceledStreams);
    }

    internal void RequestCanceled() => Interlocked.Increment(ref _canceledRequests);

    internal void ResponseCut() => Interlocked.Increment(ref _cutStreams);

    internal void FaultInjected() => Interlocked.Increment(ref _injectedFaults);
}
