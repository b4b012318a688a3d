using AgentOrchestrator.Contracts;
using AgentOrchestrator.Tenancy.Budgets;
using AgentOrchestrator.Workers.Budgets;
using AgentOrchestrator.Workers.Telemetry;
using AgentOrchestrator.Workflows;
using MassTransit;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel.ChatCompletion;
using Temporalio.Activities;
using Temporalio.Exceptions;
using LogContext = Serilog.Context.LogContext;

namespace AgentOrchestrator.Workers;

/// <summary>
/// The agent activity: one model call, streamed to the run's subscribers as batched token deltas through the bus.
/// Only the final text returns to the workflow (tokens never enter history). Each attempt streams under its own
/// attempt number, so clients can drop the partial text of a superseded attempt.
/// </summary>
public sealed class AgentActivities(
    ChatModelFactory models,
    ModelCallGuard guard,
    IPublishEndpoint publisher,
    IOptions<ModelOptions> modelOptions,
    IOptions<TokenBatchingOptions> batchingOptions,
    IOptions<AgentWorkerOptions> workerOptions,
    TimeProvider time,
    WorkerMetrics metrics,
    ILogger<AgentActivities> logger)
{
    [Activity(AgentActivityNames.RunAgentStep)]
    public async Task<AgentStepResult> RunAgentStepAsync(AgentStepInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ActivityExecutionContext context = ActivityExecutionContext.Current;
        int attempt = context.Info.Attempt;
        CancellationToken cancellationToken = context.CancellationToken;
        string model = string.IsNullOrWhiteSpace(input.Model) ? modelOptions.Value.DefaultModel : input.Model;

        using IDisposable tenant = LogContext.PushProperty("TenantId", input.TenantId);
        using IDisposable run = LogContext.PushProperty("RunId", input.RunId);
        using IDisposable step = LogContext.PushProperty("StepId", input.Step);

        var events = new StepEventPublisher(publisher, time, input.RunId, input.TenantId, input.Step, input.Agent, attempt);
        using var heartbeatStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task heartbeats = ActivitySupport.HeartbeatAsync(context, workerOptions.Value.HeartbeatInterval, time, heartbeatStop.Token);
        ModelCallLease? lease = null;
        try
        {
            // On a retry, subscribers first learn that this attempt supersedes the earlier ones' partial text.
            await events.PublishRetryingIfRetryAsync(cancellationToken);
            lease = await guard.EnterAsync(context.Info, events, input.TenantId, model, PromptChars(input), cancellationToken);
            await events.PublishAsync(RunEventTypes.StepStarted, 0, text: null, cancellationToken);
            WorkerLog.StepStarted(logger, input.Agent, attempt, model);
            ModelStreamResult streamed;
            using (WorkerMetrics.ModelCall call = metrics.StartModelCall(input.TenantId, model))
            {
                streamed = await ModelStream.PublishAsync(
                    models.Create(model).GetStreamingChatMessageContentsAsync(ToChatHistory(input), cancellationToken: cancellationToken),
                    events, batchingOptions.Value, time, logger, onUpdate: null, cancellationToken);
                call.Completed(streamed.PromptTokens, streamed.CompletionTokens);
            }
            await lease.SettleAsync(streamed.PromptTokens, streamed.CompletionTokens);
            var result = new AgentStepResult { Text = streamed.Text, PromptTokens = streamed.PromptTokens, CompletionTokens = streamed.CompletionTokens };
            // step.completed comes after the last delta: its index is the number of token messages.
            await events.PublishAsync(RunEventTypes.StepCompleted, streamed.Deltas, result.Text, cancellationToken);
            WorkerLog.StepCompleted(logger, input.Agent, attempt, result.Text.Length, streamed.Deltas, result.CompletionTokens);
            return result;
        }
        catch (ApplicationFailureException e) when (ModelCallGuard.IsGuardFailure(e))
        {
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            WorkerLog.StepCanceled(logger, input.Agent, attempt);
            throw;
        }
        catch (Exception e) when (ModelCallGuard.RateLimitDelay(e, attempt) is { } delay)
        {
            // The model served nothing: its reservation goes back, and the wait is Temporal's, not this worker's.
            if (lease is not null)
            {
                await lease.RefundAsync();
            }
            throw await guard.RateLimitedAsync(events, input.TenantId, delay, e, cancellationToken);
        }
        catch (Exception e) when (ActivitySupport.RejectedStatus(e) is { } status)
        {
            // The model rejected the request itself (bad request, auth, unknown model): retrying cannot help.
            WorkerLog.StepFailed(logger, e, input.Agent, attempt);
            throw new ApplicationFailureException(
                $"The model rejected the request ({status}): {e.Message}", e, "ModelRequestRejected", nonRetryable: true);
        }
        catch (Exception e)
        {
            WorkerLog.StepFailed(logger, e, input.Agent, attempt);
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

    private static long PromptChars(AgentStepInput input)
    {
        long chars = input.Instructions.Length + input.Prompt.Length;
        foreach (ConversationMessage message in input.History ?? [])
        {
            chars += message.Text.Length;
        }
        return chars;
    }

    private static ChatHistory ToChatHistory(AgentStepInput input)
    {
        var history = new ChatHistory();
        history.AddSystemMessage(input.Instructions);
        foreach (ConversationMessage message in input.History ?? [])
        {
            if (message.Role == ConversationRoles.Assistant)
            {
                history.AddAssistantMessage(message.Text);
            }
            else
            {
                history.AddUserMessage(message.Text);
            }
        }
        history.AddUserMessage(input.Prompt);
        return history;
    }

}
