namespace AgentOrchestrator.Workers.Tools;

/// <summary>
/// What a tool (a Semantic Kernel function) may want to know about the call it serves, without the model seeing
/// it as a parameter: <see cref="Current"/> is set while the tool runs. <see cref="IdempotencyKey"/> is the same on
/// every attempt of one tool call (a hash of workflow id, step and call id), so a tool with side effects can
/// de-duplicate a retried call.
/// </summary>
public sealed record AgentToolContext
{
    private static readonly AsyncLocal<AgentToolContext?> Ambient = new();

    /// <summary>The call the current tool serves; null outside a tool call.</summary>
    public static AgentToolContext? Current
    {
        get => Ambient.Value;
        internal set => Ambient.Value = value;
    }

    /// <summary>The same on every attempt of one tool call: a key for de-duplicating side effects.</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>The run the call belongs to.</summary>
    public required string RunId { get; init; }

    /// <summary>The run's tenant.</summary>
    public required string TenantId { get; init; }

    /// <summary>The tool call's step id.</summary>
    public required string Step { get; init; }

    /// <summary>The model's id of the call.</summary>
    public required string CallId { get; init; }

    /// <summary>Activity attempt, 1-based.</summary>
    public required int Attempt { get; init; }
}
