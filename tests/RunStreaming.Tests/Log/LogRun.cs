using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Tests.Log;

/// <summary>Builds one run's events for log and ordering tests.</summary>
public sealed class LogRun(string tenant, string runId)
{
    public string Tenant { get; } = tenant;

    public string RunId { get; } = runId;

    public RunEvent RunStarted() => RunLevel(RunEventTypes.RunStarted, 0, null);

    public RunEvent RunCompleted(string? text = null) => RunLevel(RunEventTypes.RunCompleted, 1, text);

    public RunEvent Retrying(string step, int attempt) => StepEvent(step, attempt, RunEventTypes.StepRetrying, 0, null, null);

    public RunEvent Started(string step, int attempt) => StepEvent(step, attempt, RunEventTypes.StepStarted, 0, null, null);

    public RunEvent Token(string step, int attempt, long index, string text, long? offset = null) =>
        StepEvent(step, attempt, RunEventTypes.Token, index, text, offset);

    public RunEvent Completed(string step, int attempt, long tokens, string text) => StepEvent(step, attempt, RunEventTypes.StepCompleted, tokens, text, null);

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

    private RunEvent StepEvent(string step, int attempt, string type, long index, string? text, long? offset) => new()
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
        Offset = offset,
        Ts = DateTimeOffset.UnixEpoch,
    };
}
