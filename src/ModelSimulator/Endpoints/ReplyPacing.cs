using AgentOrchestrator.ModelSimulator.Faults;

namespace AgentOrchestrator.ModelSimulator.Endpoints;

/// <summary>The delays for one request: configured defaults, overridden by its fault plan.</summary>
internal readonly record struct ReplyPacing(TimeSpan TimeToFirstToken, TimeSpan TokenInterval)
{
    public static ReplyPacing Resolve(ModelSimulatorOptions options, FaultPlan plan)
    {
        bool instant = options.Instant || plan.Instant;
        TimeSpan firstToken = plan.TimeToFirstToken ?? (instant ? TimeSpan.Zero : options.TimeToFirstToken);
        TimeSpan interval = plan.TokenInterval
            ?? (instant ? TimeSpan.Zero : TimeSpan.FromSeconds(1 / options.TokensPerSecond));
        return new ReplyPacing(firstToken, interval);
    }

    /// <summary>Time until token number <paramref name="tokens"/> would have been produced.</summary>
    public TimeSpan UntilToken(int tokens) =>
        tokens <= 0 ? TimeSpan.Zero : TimeToFirstToken + (TokenInterval * (tokens - 1));

    public static Task DelayAsync(TimeSpan delay, TimeProvider timeProvider, CancellationToken cancellationToken) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, timeProvider, cancellationToken) : Task.CompletedTask;
}
