namespace AgentOrchestrator.ModelSimulator.Faults;

/// <summary>
/// What one request asked the simulator to do differently, parsed by <see cref="FaultSpecParser"/>.
/// Null members mean "use the configured default".
/// </summary>
public sealed record FaultPlan
{
    /// <summary>No faults, default pacing.</summary>
    public static FaultPlan None { get; } = new();

    /// <summary>429 or 500 to answer with instead of a completion; null for a normal answer.</summary>
    public int? FailureStatusCode { get; init; }

    /// <summary>Value of the <c>Retry-After</c> header sent with a simulated 429.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Abort the connection after this many content (or tool-call) deltas.</summary>
    public int? CutAfterTokens { get; init; }

    /// <summary>Delay between tokens, overriding <see cref="ModelSimulatorOptions.TokensPerSecond"/>.</summary>
    public TimeSpan? TokenInterval { get; init; }

    /// <summary>Delay before the first token, overriding <see cref="ModelSimulatorOptions.TimeToFirstToken"/>.</summary>
    public TimeSpan? TimeToFirstToken { get; init; }

    /// <summary>No delays, except those given explicitly by <c>ttft:</c> or <c>trickle:</c>.</summary>
    public bool Instant { get; init; }

    /// <summary>Key shared by the requests of one <c>fail-first:K:KEY</c> series; null when not asked for.</summary>
    public string? FailFirstKey { get; init; }

    /// <summary>How many requests of the <see cref="FailFirstKey"/> series fail with 500.</summary>
    public int FailFirstCount { get; init; }
}
