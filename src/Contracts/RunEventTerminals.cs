namespace AgentOrchestrator.Contracts;

/// <summary>The run-level event types after which a run has no more events.</summary>
public static class RunEventTerminals
{
    /// <summary>Whether <paramref name="type"/> ends a run.</summary>
    public static bool IsTerminal(string type) =>
        type is RunEventTypes.RunCompleted or RunEventTypes.RunFailed or RunEventTypes.RunCanceled;
}
