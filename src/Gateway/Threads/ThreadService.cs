using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Runs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Gateway.Threads;

/// <summary>The outcome of a message to a thread: the turn's answer, or why there is none.</summary>
public sealed record ThreadTurnOutcome(RunControlStatus Status, ThreadTurnResult? Turn, string? Error = null, bool TurnFailed = false);

/// <summary>
/// Starts chat threads and runs their turns. A thread is a chat-thread workflow under the tenant's run workflow id,
/// so its id works wherever a run id does (events, status, cancel); continue-as-new keeps that id.
/// </summary>
public sealed class ThreadService(ITemporalClient temporal, RunControlService control, TenantDispatchPriority priority, IOptionsMonitor<ThreadOptions> options,
    ILogger<ThreadService> logger)
{
    public async Task<string> CreateAsync(string tenantId, string? instructions, CancellationToken cancellationToken)
    {
        ThreadOptions threads = options.CurrentValue;
        string threadId = RunService.NewRunId();
        var input = new ThreadInput
        {
            ThreadId = threadId,
            TenantId = tenantId,
            Instructions = string.IsNullOrWhiteSpace(instructions) ? ChatThreads.DefaultInstructions : instructions,
            TurnsPerRun = threads.TurnsPerRun,
            MaxMessages = threads.MaxMessages,
            Model = threads.Model,
        };
        await temporal.StartWorkflowAsync(ChatThreads.WorkflowType, [input], new WorkflowOptions(RunWorkflowIds.For(tenantId, threadId), TaskQueues.Agents)
        {
            IdReusePolicy = WorkflowIdReusePolicy.RejectDuplicate,
            Priority = priority.For(tenantId),
            Rpc = new RpcOptions { CancellationToken = cancellationToken },
        });
        InteractionLog.ThreadStarted(logger, threadId);
        return threadId;
    }

    /// <summary>Runs one turn and waits for its answer (its tokens stream to the thread's subscribers meanwhile).</summary>
    public async Task<ThreadTurnOutcome> PostAsync(string tenantId, string threadId, string text, CancellationToken cancellationToken)
    {
        (RunControlResult? refusal, WorkflowHandle? handle) = await control.OpenRunningAsync(tenantId, threadId, cancellationToken);
        if (handle is null)
        {
            return new ThreadTurnOutcome(refusal!.Value.Status, null);
        }
        try
        {
            ThreadTurnResult turn = await handle.ExecuteUpdateAsync<ThreadTurnResult>(ChatThreads.PostMessageUpdate,
                [new ThreadMessageRequest { Text = text }],
                new WorkflowUpdateOptions { Rpc = new RpcOptions { CancellationToken = cancellationToken } });
            return new ThreadTurnOutcome(RunControlStatus.Accepted, turn);
        }
        catch (WorkflowUpdateFailedException e) when (e.InnerException is ActivityFailureException failure)
        {
            // The turn's model call failed after its retries; the thread itself goes on.
            string reason = failure.InnerException?.Message ?? failure.Message;
            InteractionLog.TurnFailed(logger, threadId, reason);
            return new ThreadTurnOutcome(RunControlStatus.Rejected, null, reason, TurnFailed: true);
        }
        catch (WorkflowUpdateFailedException e)
        {
            return new ThreadTurnOutcome(RunControlStatus.Rejected, null, e.InnerException?.Message ?? e.Message);
        }
        catch (RpcException e) when (e.Code == RpcException.StatusCode.NotFound)
        {
            return new ThreadTurnOutcome(RunControlStatus.Finished, null);
        }
    }
}
