using System.Text.Json;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Runs;
using Microsoft.AspNetCore.SignalR;
using Serilog.Context;

namespace AgentOrchestrator.Gateway.Hubs;

/// <summary>Run control over the hub: Cancel and ProvideInput, with the REST endpoints' rules and error codes.</summary>
public sealed partial class RunsHub
{
    /// <summary>Requests cancellation of a running run; "[run_not_found]" or "[run_finished]" otherwise.</summary>
    public async Task Cancel(string runId, RunControlService control)
    {
        ArgumentNullException.ThrowIfNull(control);
        var tenant = TenantIds.TenantOf(Context.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        using var runScope = LogContext.PushProperty("RunId", runId);
        ThrowUnlessAccepted(await control.CancelAsync(tenant, runId, Context.ConnectionAborted));
    }

    /// <summary>
    /// Answers input request <paramref name="requestId"/> with <paramref name="answerJson"/> (a JSON value as text);
    /// "[invalid_input] ..." when the run rejects it (nothing changes), "[run_not_found]" or "[run_finished]" otherwise.
    /// </summary>
    public async Task ProvideInput(string runId, string requestId, string answerJson, RunControlService control)
    {
        ArgumentNullException.ThrowIfNull(control);
        var tenant = TenantIds.TenantOf(Context.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        using var runScope = LogContext.PushProperty("RunId", runId);
        if (string.IsNullOrWhiteSpace(requestId))
        {
            throw new HubException(ControlProblems.HubMessage(ControlProblems.InvalidRequestCode, "'requestId' is required."));
        }
        JsonElement answer;
        try
        {
            using var document = JsonDocument.Parse(answerJson ?? string.Empty);
            answer = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new HubException(ControlProblems.HubMessage(ControlProblems.InvalidInputCode, $"The answer is not valid JSON: {e.Message}"));
        }
        ThrowUnlessAccepted(await control.ProvideInputAsync(tenant, runId, requestId, answer, Context.ConnectionAborted));
    }

    private static void ThrowUnlessAccepted(RunControlResult result)
    {
        switch (result.Status)
        {
            case RunControlStatus.Accepted:
                return;
            case RunControlStatus.NotFound:
                throw new HubException(ControlProblems.HubMessage(ControlProblems.RunNotFoundCode, ControlProblems.RunNotFoundDetail));
            case RunControlStatus.Finished:
                throw new HubException(ControlProblems.HubMessage(ControlProblems.RunFinishedCode, ControlProblems.RunFinishedDetail));
            default:
                throw new HubException(ControlProblems.HubMessage(ControlProblems.InvalidInputCode, result.Message ?? "The input was rejected."));
        }
    }
}
