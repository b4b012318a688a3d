namespace AgentOrchestrator.Client;

/// <summary>
/// Exponential backoff with full jitter. Full jitter (a uniformly random delay between zero and the exponential
/// ceiling) spreads a crowd of clients that lost the same gateway at the same moment across the whole window,
/// instead of bringing them back in synchronized waves.
/// </summary>
public sealed class ReconnectPolicy
{
    private readonly Random _random;
    private readonly Lock _randomGate = new();

    /// <summary>A policy drawing from <paramref name="random"/> (default: <see cref="Random.Shared"/>); pass a seeded one to reproduce delays.</summary>
    public ReconnectPolicy(ReconnectOptions options, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _random = random ?? Random.Shared;
    }

    /// <summary>The bounds this policy applies.</summary>
    public ReconnectOptions Options { get; }

    /// <summary>True while <paramref name="attempt"/> (1-based count of consecutive failures) may still be retried.</summary>
    public bool CanRetry(int attempt) => attempt <= Options.MaxAttempts;

    /// <summary>The upper bound of the delay after failure <paramref name="attempt"/>: InitialDelay * 2^(attempt-1), capped at MaxDelay.</summary>
    public TimeSpan CeilingFor(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var initial = Options.InitialDelay.Ticks;
        var max = Options.MaxDelay.Ticks;
        // Doubling stops once past the cap, so large attempt numbers never overflow.
        var ceiling = initial;
        for (var i = 1; i < attempt && ceiling < max; i++)
        {
            ceiling *= 2;
        }
        return TimeSpan.FromTicks(Math.Min(ceiling, max));
    }

    /// <summary>
    /// The delay before retrying after failure <paramref name="attempt"/>: uniform in [0, ceiling]. A server's
    /// Retry-After is a floor: the client never comes back sooner than it was told.
    /// </summary>
    public TimeSpan DelayFor(int attempt, TimeSpan? retryAfter = null)
    {
        var ceiling = CeilingFor(attempt);
        double fraction;
        lock (_randomGate)
        {
            fraction = _random.NextDouble();
        }
        var delay = TimeSpan.FromTicks((long)(ceiling.Ticks * fraction));
        return retryAfter is { } floor && floor > delay ? floor : delay;
    }
}
