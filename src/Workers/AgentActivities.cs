using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Publishing;
using AgentOrchestrator.Workers.Telemetry;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel.ChatCompletion;
using Temporalio.Activities;
using LogContext = Serilog.Context.LogContext;

namespace AgentOrchestrator.Workers;

/// <summary>
/// The agent activity: one model call, streamed to the run's subscribers as batched token deltas through the bus.
/// Only the final text returns to the workflow (tokens never enter history). Each attempt streams under its own
/// attempt number, so clients can drop the partial text of a superseded attempt.
/// </summary>
public sealed class AgentActivities(
    ChatModelFactory models,
    ModelStepLifecycle lifecycle,
    RunEventPublisher publisher,
    IOptions<ModelOptions> modelOptions,
    IOptions<TokenBatchingOptions> batchingOptions,
    WorkerMetrics metrics,
    TimeProvider time,
    ILogger<AgentActivities> logger)
{
    /// <summary>One agent step: a streamed model call with no tools; returns the final text.</summary>
    [Activity(AgentActivityNames.RunAgentStep)]
    public async Task<AgentStepResult> RunAgentStepAsync(AgentStepInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ActivityExecutionContext context = ActivityExecutionContext.Current;
        int attempt = context.Info.Attempt;
        string model = string.IsNullOrWhiteSpace(input.Model) ? modelOptions.Value.DefaultModel : input.Model;

        using IDisposable tenant = LogContext.PushProperty("TenantId", input.TenantId);
        using IDisposable run = LogContext.PushProperty("RunId", input.RunId);
        using IDisposable step = LogContext.PushProperty("StepId", input.Step);

        var events = new StepEventPublisher(publisher, time, input.RunId, input.TenantId, input.Step, input.Agent, attempt, metrics);
        return await lifecycle.RunAsync(context, events, new ModelStepCall(input.TenantId, input.Agent, model, PromptChars(input)), async cancellationToken =>
        {
            ModelStreamResult streamed = await ModelStream.PublishAsync(
                models.Create(model).GetStreamingChatMessageContentsAsync(ToChatHistory(input), cancellationToken: cancellationToken),
                events, batchingOptions.Value, time, logger, onUpdate: null, cancellationToken);
            return (new AgentStepResult { Text = streamed.Text, PromptTokens = streamed.PromptTokens, CompletionTokens = streamed.CompletionTokens }, streamed);
        }, logger);
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
