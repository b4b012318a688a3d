using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workflows;
using MassTransit;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using OpenAI.Chat;
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
    IPublishEndpoint publisher,
    IOptions<ModelOptions> modelOptions,
    IOptions<TokenBatchingOptions> batchingOptions,
    IOptions<AgentWorkerOptions> workerOptions,
    TimeProvider time,
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

        using var heartbeatStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task heartbeats = ActivitySupport.HeartbeatAsync(context, workerOptions.Value.HeartbeatInterval, time, heartbeatStop.Token);
        try
        {
            if (attempt > 1)
            {
                // Tells subscribers that this attempt supersedes the earlier ones: they drop those attempts' partial text.
                await PublishStepEventAsync(input, attempt, RunEventTypes.StepRetrying, 0, text: null, emittedAtUs: null, cancellationToken,
                    JsonSerializer.SerializeToElement(new StepRetryingData(attempt - 1), WorkerJsonContext.Default.StepRetryingData));
            }
            await PublishStepEventAsync(input, attempt, RunEventTypes.StepStarted, 0, text: null, emittedAtUs: null, cancellationToken);
            WorkerLog.StepStarted(logger, input.Agent, attempt, model);
            (AgentStepResult result, long batches) = await StreamAsync(input, attempt, model, cancellationToken);
            // step.completed comes after the last delta: its index is the number of token messages.
            await PublishStepEventAsync(input, attempt, RunEventTypes.StepCompleted, batches, result.Text, emittedAtUs: null, cancellationToken);
            WorkerLog.StepCompleted(logger, input.Agent, attempt, result.Text.Length, batches, result.CompletionTokens);
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            WorkerLog.StepCanceled(logger, input.Agent, attempt);
            throw;
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
            await heartbeatStop.CancelAsync();
            await heartbeats;
        }
    }

    private async Task<(AgentStepResult Step, long Batches)> StreamAsync(
        AgentStepInput input, int attempt, string model, CancellationToken cancellationToken)
    {
        IChatCompletionService chat = models.Create(model);
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

        var batcher = new TokenBatcher(batchingOptions.Value, time);
        long index = 0;
        // Endpoints that do not stamp their chunks (anything but the simulator) are not asked again every batch.
        bool? modelStamps = null;
        // The flusher stops with the stream: if the stream fails, pending deltas of this attempt are dropped
        // (the attempt is superseded anyway).
        using var flushStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task flushing = batcher.RunAsync(async (batch, ct) =>
        {
            long current = index++;
            long? emittedAtUs = null;
            if (modelStamps != false && batch.FirstSource is StreamingChatMessageContent first)
            {
                emittedAtUs = ModelChunkStamps.EmittedAtUs(first);
                modelStamps ??= emittedAtUs is not null;
            }
            await PublishStepEventAsync(input, attempt, RunEventTypes.Token, current, batch.Text, emittedAtUs, ct);
            if (logger.IsEnabled(LogLevel.Trace))
            {
                WorkerLog.TokenDeltaPublished(logger, current, batch.Text.Length);
            }
        }, flushStop.Token);

        var text = new StringBuilder();
        int promptTokens = 0;
        int completionTokens = 0;
        try
        {
            await foreach (StreamingChatMessageContent update in chat.GetStreamingChatMessageContentsAsync(
                history, cancellationToken: cancellationToken))
            {
                if (update.Content is { Length: > 0 } delta)
                {
                    text.Append(delta);
                    batcher.Add(delta, update);
                }
                if (update.InnerContent is StreamingChatCompletionUpdate { Usage: { } usage })
                {
                    promptTokens = usage.InputTokenCount;
                    completionTokens = usage.OutputTokenCount;
                }
            }
        }
        catch
        {
            batcher.Complete();
            await flushStop.CancelAsync();
            await ActivitySupport.ObserveStoppedAsync(flushing);
            throw;
        }
        batcher.Complete();
        await flushing;
        var result = new AgentStepResult { Text = text.ToString(), PromptTokens = promptTokens, CompletionTokens = completionTokens };
        return (result, index);
    }

    private Task PublishStepEventAsync(
        AgentStepInput input, int attempt, string type, long index, string? text, long? emittedAtUs, CancellationToken cancellationToken,
        JsonElement? data = null)
    {
        var runEvent = new RunEvent
        {
            Id = RunEventIds.ForStep(input.RunId, input.Step, attempt, type, index),
            RunId = input.RunId,
            TenantId = input.TenantId,
            Type = type,
            Step = input.Step,
            Agent = input.Agent,
            Attempt = attempt,
            Index = index,
            Text = text,
            Ts = time.GetUtcNow(),
            ModelEmittedAtUs = emittedAtUs,
            Data = data,
        };
        return publisher.Publish(
            new RunEventsPublished { RunId = input.RunId, TenantId = input.TenantId, Events = [runEvent] },
            cancellationToken);
    }

}
