using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Telemetry;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Subscriptions;
using Microsoft.Extensions.Logging;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Gateway.Runs;

/// <summary>The result of a start: the run id and whether this call started it (false: an idempotent repeat).</summary>
public readonly record struct RunStart(string RunId, bool Created);

/// <summary>A run as its owner sees it; null from <see cref="RunService.DescribeAsync"/> means "not found" (also for other tenants' runs).</summary>
public sealed record RunDescription(string RunId, string Flow, string Status, JsonElement? Result);

/// <summary>Starts and describes runs in Temporal, always through the caller's tenant-scoped workflow id.</summary>
public sealed class RunService(ITemporalClient temporal, TenantDispatchPriority priority, RunStartClock startClock, GatewayMetrics metrics, ILogger<RunService> logger)
    : IRunLookup
{
    /// <summary>
    /// Starts <paramref name="flow"/>. With an idempotency key the run id is derived from tenant + key and the
    /// workflow is started with REJECT_DUPLICATE: Temporal itself refuses a second start (even after the first run
    /// closed, for as long as it retains the run), and "already started" is reported as a repeat.
    /// </summary>
    public async Task<RunStart> StartAsync(string tenantId, string? subject, string flow, string input, string? idempotencyKey,
        CancellationToken cancellationToken)
    {
        var runId = idempotencyKey is null ? NewRunId() : RunIdFor(tenantId, idempotencyKey);
        var workflowId = RunWorkflowIds.For(tenantId, runId);
        var runInput = new RunInput { RunId = runId, TenantId = tenantId, Flow = flow, Input = input };
        var acceptedAt = startClock.Now();
        try
        {
            await temporal.StartWorkflowAsync(flow, [runInput], new WorkflowOptions(workflowId, TaskQueues.Agents)
            {
                IdReusePolicy = WorkflowIdReusePolicy.RejectDuplicate,
                TypedSearchAttributes = new SearchAttributeCollection.Builder().Set(RunSearchAttributes.TenantId, tenantId).ToSearchAttributeCollection(),
                Priority = priority.For(tenantId),
                Rpc = new RpcOptions { CancellationToken = cancellationToken },
            });
            startClock.Accepted(runId, acceptedAt);
            metrics.RunStarted(tenantId, flow);
            GatewayLog.RunStarted(logger, runId, flow, subject ?? "(none)");
            return new RunStart(runId, Created: true);
        }
        catch (WorkflowAlreadyStartedException) when (idempotencyKey is not null)
        {
            GatewayLog.RunRepeated(logger, runId, flow);
            return new RunStart(runId, Created: false);
        }
    }

    public async Task<RunDescription?> DescribeAsync(string tenantId, string runId, bool withResult, CancellationToken cancellationToken)
    {
        if (!TenantIds.IsValid(runId))
        {
            return null;
        }
        var handle = temporal.GetWorkflowHandle(RunWorkflowIds.For(tenantId, runId));
        WorkflowExecutionDescription description;
        try
        {
            description = await handle.DescribeAsync(new WorkflowDescribeOptions { Rpc = new RpcOptions { CancellationToken = cancellationToken } });
        }
        catch (RpcException e) when (e.Code == RpcException.StatusCode.NotFound)
        {
            return null;
        }
        var status = StatusName(description.Status);
        JsonElement? result = null;
        if (withResult && description.Status == WorkflowExecutionStatus.Completed)
        {
            result = await handle.GetResultAsync<JsonElement>(followRuns: true, new RpcOptions { CancellationToken = cancellationToken });
        }
        return new RunDescription(runId, description.WorkflowType, status, result);
    }

    public async Task<bool> ExistsAsync(string tenantId, string runId, CancellationToken cancellationToken) =>
        await DescribeAsync(tenantId, runId, withResult: false, cancellationToken) is not null;

    /// <summary>Per tenant: the same key from two tenants gives two runs (the tenant is also part of the workflow id).</summary>
    public static string RunIdFor(string tenantId, string idempotencyKey)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{tenantId}\n{idempotencyKey}"));
        return "k" + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }

    public static string NewRunId() => Guid.CreateVersion7().ToString("N");

    public static string StatusName(WorkflowExecutionStatus status) => status switch
    {
        WorkflowExecutionStatus.Running or WorkflowExecutionStatus.ContinuedAsNew => "running",
        WorkflowExecutionStatus.Completed => "completed",
        WorkflowExecutionStatus.Failed => "failed",
        WorkflowExecutionStatus.Canceled => "canceled",
        WorkflowExecutionStatus.Terminated => "terminated",
        WorkflowExecutionStatus.TimedOut => "timed_out",
        _ => "unknown",
    };
}
