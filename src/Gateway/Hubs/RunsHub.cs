using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Quotas;
using AgentOrchestrator.Gateway.Runs;
using Microsoft.AspNetCore.SignalR;
using Serilog.Context;

namespace AgentOrchestrator.Gateway.Hubs;

/// <summary>
/// /hubs/runs: start runs and stream their events. Authorization (a bearer token with a tenant) is required by the
/// endpoint mapping; every run id is resolved inside the caller's tenant. Partial: groups of hub methods live in
/// their own files (RunsHub.*.cs); methods there take the services they need as parameters (SignalR injects them).
/// </summary>
public sealed partial class RunsHub(RunService runs, RunRequestValidator validator) : Hub
{
    [StartsRun]
    public async Task<string> StartRun(string flow, string input)
    {
        var tenant = TenantIds.TenantOf(Context.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        if (validator.Validate(flow, input) is { } errors)
        {
            throw new HubException(ControlProblems.HubMessage(ControlProblems.InvalidRequestCode, RunRequestValidator.Describe(errors)));
        }
        var start = await runs.StartAsync(tenant, TenantIds.SubjectOf(Context.User), flow, input, idempotencyKey: null, Context.ConnectionAborted);
        return start.RunId;
    }
}
