using System.Text.Json;
using AgentOrchestrator.Contracts;
using Microsoft.Extensions.Logging;
using Temporalio.Client;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Gateway.Runs;

/// <summary>How a control request (cancel, input, a thread message) ended.</summary>
public enum RunControlStatus
{
    /// <summary>Done (cancel: requested).</summary>
    Accepted,

    /// <summary>No such run for this tenant (also another tenant's run).</summary>
    NotFound,

    /// <summary>The run has already finished: nothing can change it any more.</summary>
    Finished,

    /// <summary>The workflow refused the request (an update validator's rejection); nothing changed.</summary>
    Rejected,
}

/// <summary>The outcome of a control request; <see cref="Message"/> says why it was rejected.</summary>
public readonly record struct RunControlResult(RunControlStatus Status, string? Message = null)
{
    public static RunControlResult Accepted { get; } = new(RunControlStatus.Accepted);

    public static RunControlResult NotFound { get; } = new(RunControlStatus.NotFound);

    public static RunControlResult Finished { get; } = new(RunControlStatus.Finished);
}

/// <summary>
/// Changes running runs on a caller's behalf: cancel, and answers to input requests (the "provide-input" update). Every
/// run id is resolved inside the caller's tenant; a finished run is reported as such instead of being touched.
/// </summary>
public sealed class RunControlService(ITemporalClient temporal, RunService runs, ILogger<RunControlService> logger)
{
    public async Task<RunControlResult> CancelAsync(string tenantId, string runId, CancellationToken cancellationToken)
    {
        (RunControlResult? refusal, WorkflowHandle? handle) = await OpenRunningAsync(tenantId, runId, cancellationToken);
        if (handle is null)
        {
            return refusal!.Value;
        }
        try
        {
            await handle.CancelAsync(new WorkflowCancelOptions { Rpc = new RpcOptions { CancellationToken = cancellationToken } });
        }
        catch (RpcException e) when (e.Code == RpcException.StatusCode.NotFound)
        {
            // Closed between the describe and the cancel (a real Temporal answers NotFound for a closed run).
            return RunControlResult.Finished;
        }
        InteractionLog.CancelRequested(logger, runId);
        return RunControlResult.Accepted;
    }

    /// <summary>Delivers <paramref name="answer"/> to input request <paramref name="requestId"/> of a running run.</summary>
    public async Task<RunControlResult> ProvideInputAsync(string tenantId, string runId, string requestId, JsonElement answer,
        CancellationToken cancellationToken)
    {
        (RunControlResult? refusal, WorkflowHandle? handle) = await OpenRunningAsync(tenantId, runId, cancellationToken);
        if (handle is null)
        {
            return refusal!.Value;
        }
        try
        {
            await handle.ExecuteUpdateAsync(HumanInputUpdates.ProvideInput,
                [new ProvideInputRequest { RequestId = requestId, Answer = answer }],
                new WorkflowUpdateOptions { Rpc = new RpcOptions { CancellationToken = cancellationToken } });
        }
        catch (WorkflowUpdateFailedException e)
        {
            string reason = e.InnerException?.Message ?? e.Message;
            InteractionLog.InputRejected(logger, runId, requestId, reason);
            return new RunControlResult(RunControlStatus.Rejected, reason);
        }
        catch (RpcException e) when (e.Code == RpcException.StatusCode.NotFound)
        {
            return RunControlResult.Finished;
        }
        InteractionLog.InputAccepted(logger, runId, requestId);
        return RunControlResult.Accepted;
    }

    /// <summary>The handle of the caller's run when it is running; otherwise why not (unknown or finished).</summary>
    internal async Task<(RunControlResult? Refusal, WorkflowHandle? Handle)> OpenRunningAsync(string tenantId, string runId,
        CancellationToken cancellationToken)
    {
        RunDescription? run = await runs.DescribeAsync(tenantId, runId, withResult: false, cancellationToken);
        return run switch
        {
            null => (RunControlResult.NotFound, null),
            { Status: "running" } => (null, temporal.GetWorkflowHandle(RunWorkflowIds.For(tenantId, runId))),
            _ => (RunControlResult.Finished, null),
        };
    }
}
