using AgentOrchestrator.Contracts;
using AgentOrchestrator.Tenancy.Budgets;
using AgentOrchestrator.Workers.Budgets;
using AgentOrchestrator.Workers.Telemetry;
using Microsoft.Extensions.Options;
using Temporalio.Activities;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Workers;

/// <summary>
/// What every model-calling activity does around its stream, kept in one place so agent.run-step and agent.model-turn
/// cannot drift apart: heartbeats; on a retry, step.retrying first; the tenant's budget before the call
/// (<see cref="ModelCallGuard"/>) and its settlement after; step.started and step.completed around the stream, which is
/// timed and its token usage counted (<see cref="WorkerMetrics"/>); one
/// reading of failures (guard waits and refusals pass through, a 429/503 becomes a durable wait, a request the model
/// rejected is not retried).
/// </summary>
public sealed class ModelStepLifecycle(ModelCallGuard guard, WorkerMetrics metrics, IOptions<AgentWorkerOptions> workerOptions, TimeProvider time)
{
    /// <summary>
    /// Runs one attempt of a model step. <paramref name="streamAsync"/> makes the call and streams it to
    /// <paramref name="events"/>; it returns the activity's result with what was streamed.
    /// </summary>
    internal async Task<TResult> RunAsync<TResult>(ActivityExecutionContext context, StepEventPublisher events, ModelStepCall call,
        Func<CancellationToken, Task<(TResult Result, ModelStreamResult Streamed)>> streamAsync, ILogger logger)
    {
        CancellationToken cancellationToken = context.CancellationToken;
        using var heartbeatStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task heartbeats = ActivitySupport.HeartbeatAsync(context, workerOptions.Value.HeartbeatInterval, time, heartbeatStop.Token);
        ModelCallLease? lease = null;
        try
        {
            // On a retry, subscribers first learn that this attempt supersedes the earlier ones' partial text.
            await events.PublishRetryingIfRetryAsync(cancellationToken);
            lease = await guard.EnterAsync(context.Info, events, call.TenantId, call.Model, call.PromptChars, cancellationToken);
            await events.PublishAsync(RunEventTypes.StepStarted, 0, text: null, cancellationToken);
            WorkerLog.StepStarted(logger, call.Agent, events.Attempt, call.Model);
            TResult result;
            ModelStreamResult streamed;
            using (WorkerMetrics.ModelCall measured = metrics.StartModelCall(call.TenantId, call.Model, cancellationToken))
            {
                (result, streamed) = await streamAsync(cancellationToken);
                measured.Completed(streamed.PromptTokens, streamed.CompletionTokens);
            }
            await lease.SettleAsync(streamed.PromptTokens, streamed.CompletionTokens);
            // step.completed comes after the last delta: its index is the number of token messages.
            await events.PublishAsync(RunEventTypes.StepCompleted, streamed.Deltas, streamed.Text, cancellationToken);
            WorkerLog.StepCompleted(logger, call.Agent, events.Attempt, streamed.Text.Length, streamed.Deltas, streamed.CompletionTokens);
            return result;
        }
        catch (ApplicationFailureException e) when (ModelCallGuard.IsGuardFailure(e))
        {
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            WorkerLog.StepCanceled(logger, call.Agent, events.Attempt);
            throw;
        }
        catch (Exception e) when (ModelCallGuard.RateLimitDelay(e, events.Attempt) is { } delay)
        {
            // The model served nothing: its reservation goes back, and the wait is Temporal's, not this worker's.
            if (lease is not null)
            {
                await lease.RefundAsync();
            }
            throw await guard.RateLimitedAsync(events, call.TenantId, delay, e, cancellationToken);
        }
        catch (Exception e) when (ActivitySupport.RejectedStatus(e) is { } status)
        {
            // The model rejected the request itself (bad request, auth, unknown model): retrying cannot help.
            WorkerLog.StepFailed(logger, e, call.Agent, events.Attempt);
            throw new ApplicationFailureException(
                $"The model rejected the request ({status}): {e.Message}", e, "ModelRequestRejected", nonRetryable: true);
        }
        catch (Exception e)
        {
            WorkerLog.StepFailed(logger, e, call.Agent, events.Attempt);
            throw;
        }
        finally
        {
            if (lease is not null)
            {
                await lease.DisposeAsync();
            }
            await heartbeatStop.CancelAsync();
            await heartbeats;
        }
    }
}

/// <summary>Who calls which model, and the prompt's size in characters (the budget's estimate before the call).</summary>
internal readonly record struct ModelStepCall(string TenantId, string Agent, string Model, long PromptChars);
