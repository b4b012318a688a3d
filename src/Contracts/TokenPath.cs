namespace AgentOrchestrator.Contracts;

/// <summary>
/// The points a token delta passes on its way from the model to a person, in path order. Each process stamps the points
/// it sees in Unix microseconds; a hop is named by the point it reaches and lasts from the point before it on the same
/// path (<c>publish.confirmed</c> and <c>gateway.received</c> both follow <c>publish.started</c>). Hop metrics:
/// docs/api.md "Metrics and health".
/// </summary>
public static class TokenPath
{
    /// <summary>The model wrote the delta's first token (the simulator's <c>x_emitted_at_us</c>).</summary>
    public const string ModelEmitted = "model.emitted";

    /// <summary>The worker read that token's streaming update from the model.</summary>
    public const string WorkerReceived = "worker.received";

    /// <summary>The worker handed the delta's bus message to the publisher.</summary>
    public const string PublishStarted = "publish.started";

    /// <summary>The publish returned: the broker confirmed it (RabbitMQ) or the in-memory bus took it.</summary>
    public const string PublishConfirmed = "publish.confirmed";

    /// <summary>A gateway took the message from the bus.</summary>
    public const string GatewayReceived = "gateway.received";

    /// <summary>The run's canonical order released the delta (it may wait there for earlier deltas).</summary>
    public const string GatewayReleased = "gateway.released";

    /// <summary>The delta was queued for one subscriber.</summary>
    public const string GatewayEnqueued = "gateway.enqueued";

    /// <summary>The subscriber's connection took the delta to write it (SignalR or SSE serializes and sends it next).</summary>
    public const string GatewayWritten = "gateway.written";

    /// <summary>The subscriber read it (only a client can stamp this one).</summary>
    public const string ClientReceived = "client.received";

    /// <summary>
    /// Histogram bucket boundaries of hop metrics, in milliseconds: sub-millisecond resolution where the latency goal
    /// lives (p50 at most 1 ms), up to seconds for backlogs.
    /// </summary>
    public static IReadOnlyList<double> HopBucketsMs { get; } =
        [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 250, 500, 1000, 2500, 5000, 10000];

    /// <summary>Unix microseconds of <paramref name="time"/>'s wall clock: comparable across processes on one machine.</summary>
    public static long NowUs(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return (time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;
    }

    /// <summary>A hop's length in milliseconds; clocks of different machines can disagree, and a negative hop is none.</summary>
    public static double HopMs(long fromUs, long toUs) => Math.Max(0, toUs - fromUs) / 1000.0;
}

/// <summary>One <see cref="TokenPath"/> point a token delta passed, and when (Unix µs).</summary>
public sealed record PathStamp(string Point, long AtUs);
