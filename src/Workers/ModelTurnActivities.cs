using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Publishing;
using AgentOrchestrator.Workers.Telemetry;
using AgentOrchestrator.Workers.Tools;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using Temporalio.Activities;
using Temporalio.Exceptions;
using LogContext = Serilog.Context.LogContext;

namespace AgentOrchestrator.Workers;

/// <summary>
/// One model call of an agent loop: the conversation so far goes to the model with the agent's tools declared but
/// not auto-invoked (Semantic Kernel function calling, autoInvoke off); text streams to the bus as token deltas like
/// agent.run-step; the workflow gets the final text or the tool calls the model asked for, and runs those itself.
/// </summary>
public sealed class ModelTurnActivities(
    ChatModelFactory models,
    ModelStepLifecycle lifecycle,
    AgentToolbox toolbox,
    RunEventPublisher publisher,
    IOptions<ModelOptions> modelOptions,
    IOptions<TokenBatchingOptions> batchingOptions,
    WorkerMetrics metrics,
    TimeProvider time,
    ILogger<ModelTurnActivities> logger)
{
    /// <summary>ApplicationFailure type when an agent declares a tool this worker does not have.</summary>
    public const string UnknownToolFailure = "UnknownTool";

    /// <summary>One model turn of an agent loop: streamed; returns the text or the tool calls the model asked for.</summary>
    [Activity(AgentActivityNames.ModelTurn)]
    public async Task<ModelTurnResult> RunModelTurnAsync(ModelTurnInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ActivityExecutionContext context = ActivityExecutionContext.Current;
        string model = string.IsNullOrWhiteSpace(input.Model) ? modelOptions.Value.DefaultModel : input.Model;
        using IDisposable tenant = LogContext.PushProperty("TenantId", input.TenantId);
        using IDisposable run = LogContext.PushProperty("RunId", input.RunId);
        using IDisposable step = LogContext.PushProperty("StepId", input.Step);

        var events = new StepEventPublisher(publisher, time, input.RunId, input.TenantId, input.Step, input.Agent, context.Info.Attempt, metrics);
        // Checked before anything streams: a declared tool the worker lacks is a flow bug that retrying cannot fix.
        var functions = new List<KernelFunction>(input.Tools.Count);
        foreach (string tool in input.Tools)
        {
            functions.Add(toolbox.Find(tool) ?? throw new ApplicationFailureException(
                $"Agent '{input.Agent}' declares tool '{tool}', which this worker does not have. Tools: {string.Join(", ", toolbox.Names)}.",
                UnknownToolFailure, nonRetryable: true));
        }

        ModelTurnResult result = await lifecycle.RunAsync(
            context, events, new ModelStepCall(input.TenantId, input.Agent, model, PromptChars(input)),
            cancellationToken => StreamAsync(input, events, model, functions, cancellationToken), logger);
        if (result.ToolCalls.Count > 0)
        {
            WorkerLog.ModelTurnToolCalls(logger, input.Agent, events.Attempt, result.ToolCalls.Count);
        }
        return result;
    }

    private static long PromptChars(ModelTurnInput input)
    {
        long chars = input.Instructions.Length;
        foreach (AgentMessage message in input.Messages)
        {
            chars += (message.Text?.Length ?? 0) + (message.ToolCalls?.Sum(c => c.Arguments.Length + c.Tool.Length) ?? 0);
        }
        return chars;
    }

    private async Task<(ModelTurnResult Result, ModelStreamResult Streamed)> StreamAsync(
        ModelTurnInput input, StepEventPublisher events, string model, List<KernelFunction> functions, CancellationToken cancellationToken)
    {
        IChatCompletionService chat = models.Create(model);
        ChatHistory history = ToChatHistory(input);
        var settings = new OpenAIPromptExecutionSettings
        {
            Temperature = input.Temperature,
            FunctionChoiceBehavior = functions.Count > 0 ? FunctionChoiceBehavior.Auto(functions, autoInvoke: false) : null,
        };

        var calls = new SortedDictionary<int, ToolCallBuilder>();
        ModelStreamResult streamed = await ModelStream.PublishAsync(
            chat.GetStreamingChatMessageContentsAsync(history, settings, toolbox.Kernel, cancellationToken),
            events, batchingOptions.Value, time, logger, update =>
            {
                foreach (StreamingKernelContent item in update.Items)
                {
                    if (item is StreamingFunctionCallUpdateContent call)
                    {
                        ToolCallBuilder builder = calls.TryGetValue(call.FunctionCallIndex, out ToolCallBuilder? existing)
                            ? existing
                            : calls[call.FunctionCallIndex] = new ToolCallBuilder();
                        builder.Append(call);
                    }
                }
            }, cancellationToken);
        var result = new ModelTurnResult
        {
            Text = streamed.Text,
            ToolCalls = calls.Values.Select(c => c.Build()).ToList(),
            PromptTokens = streamed.PromptTokens,
            CompletionTokens = streamed.CompletionTokens,
        };
        return (result, streamed);
    }

    private static ChatHistory ToChatHistory(ModelTurnInput input)
    {
        var history = new ChatHistory();
        history.AddSystemMessage(input.Instructions);
        foreach (AgentMessage message in input.Messages)
        {
            switch (message.Role)
            {
                case AgentMessageRoles.User:
                    history.AddUserMessage(message.Text ?? string.Empty);
                    break;
                case AgentMessageRoles.Assistant:
                    var assistant = new Microsoft.SemanticKernel.ChatMessageContent(AuthorRole.Assistant, string.IsNullOrEmpty(message.Text) ? null : message.Text);
                    foreach (AgentToolCall call in message.ToolCalls ?? [])
                    {
                        (string plugin, string function) = SplitName(call.Tool);
                        assistant.Items.Add(new FunctionCallContent(function, plugin, call.CallId, ArgumentsOf(call.Arguments)));
                    }
                    history.Add(assistant);
                    break;
                case AgentMessageRoles.Tool:
                    (string toolPlugin, string toolFunction) = SplitName(message.Tool ?? string.Empty);
                    history.Add(new FunctionResultContent(toolFunction, toolPlugin, message.ToolCallId, message.Text ?? string.Empty).ToChatMessage());
                    break;
                default:
                    throw new ApplicationFailureException($"Unknown message role '{message.Role}'.", "InvalidAgentMessage", nonRetryable: true);
            }
        }
        return history;
    }

    private static (string Plugin, string Function) SplitName(string tool)
    {
        int separator = tool.IndexOf(AgentToolbox.NameSeparator, StringComparison.Ordinal);
        return separator > 0 ? (tool[..separator], tool[(separator + 1)..]) : (string.Empty, tool);
    }

    private static KernelArguments ArgumentsOf(string json)
    {
        var arguments = new KernelArguments();
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty property in document.RootElement.EnumerateObject())
                {
                    arguments[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.Clone();
                }
            }
        }
        catch (JsonException)
        {
            // The call already ran (or failed) on these arguments; the model sees the call without them.
        }
        return arguments;
    }

    /// <summary>Assembles one streamed tool call: id and name arrive first, the arguments in fragments.</summary>
    private sealed class ToolCallBuilder
    {
        private readonly StringBuilder _arguments = new();
        private string? _callId;
        private string? _name;

        public void Append(StreamingFunctionCallUpdateContent update)
        {
            _callId ??= update.CallId;
            _name ??= update.Name;
            _arguments.Append(update.Arguments);
        }

        public AgentToolCall Build() => new()
        {
            CallId = _callId ?? throw new InvalidOperationException("The model streamed a tool call without an id."),
            Tool = _name ?? throw new InvalidOperationException("The model streamed a tool call without a name."),
            Arguments = _arguments.Length == 0 ? "{}" : _arguments.ToString(),
        };
    }
}
