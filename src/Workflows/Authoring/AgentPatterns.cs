namespace AgentOrchestrator.Workflows.Authoring;

/// <summary>One branch of <see cref="AgentFlow.FanOutAsync"/>: an agent and its prompt; the step defaults to the agent's name.</summary>
public sealed record FanOutBranch(Agent Agent, string Prompt, string? Step = null);

/// <summary>How many fan-out branches must succeed: all (fail-fast), at least N, or any number (best-effort).</summary>
public sealed record FanOutPolicy
{
    private FanOutPolicy(string name, int? required) => (Name, Required) = (name, required);

    /// <summary>fail-fast, require-N or best-effort.</summary>
    public string Name { get; }

    private int? Required { get; }

    /// <summary>Every branch must succeed: the first failure cancels the others and fails the fan-out.</summary>
    public static FanOutPolicy FailFast { get; } = new("fail-fast", null);

    /// <summary>Failed branches are reported, never fatal.</summary>
    public static FanOutPolicy BestEffort { get; } = new("best-effort", 0);

    /// <summary>At least <paramref name="count"/> branches must succeed.</summary>
    public static FanOutPolicy Require(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return new FanOutPolicy($"require-{count}", count);
    }

    internal int RequiredSuccesses(int branches) => Math.Min(Required ?? branches, branches);
}

/// <summary>A fan-out's successful branches (in branch order) and its failed ones.</summary>
public sealed record FanOutResult(IReadOnlyList<AgentResult> Succeeded, IReadOnlyList<FanOutFailure> Failed);

/// <summary>A branch that failed: its agent, step and the failure's message.</summary>
public sealed record FanOutFailure(string Agent, string Step, string Error);

/// <summary>The router's turn, the specialist it chose (null: the router answered itself) and the answer.</summary>
public sealed record HandoffResult(AgentResult Router, Agent? Specialist, AgentResult Answer);

/// <summary>A critic's verdict on one draft.</summary>
public sealed record CritiqueVerdict(bool Approved, string Feedback);

/// <summary>The last draft, how many rounds ran, whether the critic approved it, and every verdict.</summary>
public sealed record CritiqueResult(string Draft, int Rounds, bool Approved, IReadOnlyList<CritiqueVerdict> Verdicts);
