using System.Text.Json;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Client.Tests;

/// <summary>Run events shaped as the protocol defines them (ids from <see cref="RunEventIds"/>), for the SDK's unit tests.</summary>
internal static class RunEvents
{
    public static RunEvent Run(string runId, string type, string? text = null) => new()
    {
        Id = RunEventIds.ForRun(runId, type),
        RunId = runId,
        TenantId = "t",
        Type = type,
        Index = type is RunEventTypes.RunStarted ? 0 : 1,
        Text = text,
        Ts = DateTimeOffset.UnixEpoch,
    };

    public static RunEvent Step(string runId, string step, int attempt, string type, long index, string? text = null, string? dataJson = null) => new()
    {
        Id = RunEventIds.ForStep(runId, step, attempt, type, index),
        RunId = runId,
        TenantId = "t",
        Type = type,
        Step = step,
        Agent = step,
        Attempt = attempt,
        Index = index,
        Text = text,
        Data = dataJson is null ? null : JsonDocument.Parse(dataJson).RootElement.Clone(),
        Ts = DateTimeOffset.UnixEpoch,
    };

    public static RunEvent Token(string runId, string step, int attempt, long index, string text) =>
        Step(runId, step, attempt, RunEventTypes.Token, index, text);
}
