namespace AgentOrchestrator.ModelSimulator;

/// <summary>
/// Pacing and answer-length defaults of the simulator (configuration section <c>ModelSimulator</c>).
/// A request can override the pacing with a fault spec (see <see cref="Faults.FaultSpecParser"/>).
/// </summary>
public sealed class ModelSimulatorOptions
{
    /// <summary>Configuration section bound by <c>AddModelSimulator</c>.</summary>
    public const string SectionName = "ModelSimulator";

    /// <summary>Delay before the first content token (or the whole answer when not streaming). Default 300 ms.</summary>
    public TimeSpan TimeToFirstToken { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Generation speed after the first token. Default 60 tokens per second.</summary>
    public double TokensPerSecond { get; set; } = 60;

    /// <summary>Fewest words in a generated answer. Default 40.</summary>
    public int MinAnswerTokens { get; set; } = 40;

    /// <summary>
    /// Most words in a generated answer. Default 80. The length of each answer is derived from the request's
    /// hash, so the same request always gets the same length; <c>max_tokens</c> in the request caps it further.
    /// </summary>
    public int MaxAnswerTokens { get; set; } = 80;

    /// <summary>No delays at all (benchmarks of the code around the model). Default false.</summary>
    public bool Instant { get; set; }
}
