using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.TestSupport;

/// <summary>Builds a run's events as the worker and workflow publish them.</summary>
public sealed class RunScript(string tenant, string runId)
{
    public string Tenant { get; } = tenant;

    public string RunId { get; } = runId;

    public RunEvent RunStarted() => RunLevel(RunEventTypes.RunStarted, 0, null);

    public RunEvent RunCompleted(string? text = null) => RunLevel(RunEventTypes.RunCompleted, 1, text);

    public RunEvent Retrying(string step, int attempt) => StepEvent(step, attempt, RunEventTypes.StepRetrying, 0, null);

    public RunEvent Started(string step, int attempt) => StepEvent(step, attempt, RunEventTypes.StepStarted, 0, null);

    public RunEvent Token(string step, int attempt, long index, string text) => StepEvent(step, attempt, RunEventTypes.Token, index, text);

    public RunEvent Completed(string step, int attempt, long tokens, string text) => StepEvent(step, attempt, RunEventTypes.StepCompleted, tokens, text);

    public RunEvent InputRequested(string step, int attempt) => StepEvent(step, attempt, RunEventTypes.InputRequested, 0, null);

    /// <summary>A whole step attempt: step.started, one token per text, step.completed.</summary>
    public List<RunEvent> Step(string step, int attempt, params string[] tokens)
    {
        var events = new List<RunEvent>();
        if (attempt > 1)
        {
            events.Add(Retrying(step, attempt));
        }
        events.Add(Started(step, attempt));
        for (var i = 0; i < tokens.Length; i++)
        {
            events.Add(Token(step, attempt, i, tokens[i]));
        }
        events.Add(Completed(step, attempt, tokens.Length, string.Concat(tokens)));
        return events;
    }

    public RunEventsPublished Message(params RunEvent[] events) => new() { RunId = RunId, TenantId = Tenant, Events = events };

    private RunEvent RunLevel(string type, long index, string? text) => new()
    {
        Id = RunEventIds.ForRun(RunId, type),
        RunId = RunId,
        TenantId = Tenant,
        Type = type,
        Index = index,
        Text = text,
        Ts = DateTimeOffset.UnixEpoch,
    };

    private RunEvent StepEvent(string step, int attempt, string type, long index, string? text) => new()
    {
        Id = RunEventIds.ForStep(RunId, step, attempt, type, index),
        RunId = RunId,
        TenantId = Tenant,
        Type = type,
        Step = step,
        Agent = step,
        Attempt = attempt,
        Index = index,
        Text = text,
        Ts = DateTimeOffset.UnixEpoch,
    };
}
