namespace AgentOrchestrator.ChaosSupport;

/// <summary>How big a chaos session is and how it breaks things.</summary>
public sealed record ChaosSettings
{
    /// <summary>The suite's size: 20 runs in flight, every fault three times.</summary>
    public static ChaosSettings Default { get; } = new();

    /// <summary>A few runs, every fault once: checks the harness works (bench all --smoke).</summary>
    public static ChaosSettings Smoke { get; } = new() { ConcurrentRuns = 4, FaultsPerKind = 1 };

    /// <summary>Runs kept in flight while faults are injected (a finished run is replaced by a new one).</summary>
    public int ConcurrentRuns { get; init; } = 20;

    /// <summary>How many times each fault is injected, at random moments.</summary>
    public int FaultsPerKind { get; init; } = 3;

    public IReadOnlyList<FaultKind> Faults { get; init; } = Enum.GetValues<FaultKind>();

    /// <summary>The simulated model's speed: slow enough that runs are streaming whenever a fault hits.</summary>
    public int TokensPerSecond { get; init; } = 10;

    /// <summary>Seeds the fault order, moments and targets (printed, so a failing session can be replayed).</summary>
    public int Seed { get; init; } = Random.Shared.Next();

    /// <summary>Quiet time before each fault, drawn uniformly from [MinGap, MaxGap].</summary>
    public TimeSpan MinGap { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxGap { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>How long a stopped part stays down (broker, Redis, dev server, network cut), drawn from [1 s, MaxOutage].</summary>
    public TimeSpan MaxOutage { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long every watching client may take to get a new token after a fault before the next one comes anyway.</summary>
    public TimeSpan RecoveryTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the runs in flight after the last fault may take to finish.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Watch every run with the page's agent-client.js in Chromium too (besides the .NET client).</summary>
    public bool Browser { get; init; } = true;
}
