using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Publishing;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel;
using Temporalio.Activities;
using Temporalio.Exceptions;
using LogContext = Serilog.Context.LogContext;

namespace AgentOrchestrator.Workers.Tools;

/// <summary>
/// Runs one tool call the model asked for: a Semantic Kernel function from the <see cref="AgentToolbox"/>, with
/// <see cref="AgentToolContext.Current"/> set (idempotency key stable across attempts). Publishes tool.call before
/// and tool.result after (with the error when the attempt fails), as the tool call's own step. Heartbeats while the
/// tool runs, so a canceled run cancels the tool through the token handed to the function.
/// </summary>
public sealed class ToolCallActivities(
    AgentToolbox toolbox, RunEventPublisher publisher, TimeProvider time, IOptions<AgentWorkerOptions> workerOptions, ILogger<ToolCallActivities> logger)
{
    /// <summary>ApplicationFailure type when the model asked for a tool this worker does not have.</summary>
    public const string UnknownToolFailure = "UnknownTool";

    /// <summary>ApplicationFailure type when the model's arguments are not a JSON object.</summary>
    public const string InvalidArgumentsFailure = "InvalidToolArguments";

    /// <summary>Runs one tool call on this worker; returns its result as text.</summary>
    [Activity(AgentActivityNames.ToolCall)]
    public async Task<ToolCallResult> CallToolAsync(ToolCallInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ActivityExecutionContext context = ActivityExecutionContext.Current;
        CancellationToken cancellationToken = context.CancellationToken;
        AgentToolCall call = input.Call;
        using IDisposable tenant = LogContext.PushProperty("TenantId", input.TenantId);
        using IDisposable run = LogContext.PushProperty("RunId", input.RunId);
        using IDisposable step = LogContext.PushProperty("StepId", input.Step);

        // Heartbeats from the first moment to the last: Temporal takes an attempt that stops heartbeating for a dead
        // worker's, and cancellation reaches an activity only through a heartbeat's answer (a tool would run on).
        using var heartbeatStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task heartbeats = ActivitySupport.HeartbeatAsync(context, workerOptions.Value.HeartbeatInterval, time, heartbeatStop.Token);
        try
        {
            return await CallAsync(context, input, call, cancellationToken);
        }
        finally
        {
            await heartbeatStop.CancelAsync();
            await heartbeats;
        }
    }

    private async Task<ToolCallResult> CallAsync(ActivityExecutionContext context, ToolCallInput input, AgentToolCall call, CancellationToken cancellationToken)
    {
        var events = new StepEventPublisher(publisher, time, input.RunId, input.TenantId, input.Step, input.Agent, context.Info.Attempt);
        await events.PublishRetryingIfRetryAsync(cancellationToken);
        JsonElement? arguments = ParseObject(call.Arguments);
        await events.PublishAsync(RunEventTypes.ToolCall, 0, text: null, cancellationToken, JsonSerializer.SerializeToElement(
            new ToolCallData(call.CallId, call.Tool, arguments ?? JsonSerializer.SerializeToElement(call.Arguments, AgentToolJsonContext.Default.String)),
            AgentToolJsonContext.Default.ToolCallData));

        if (arguments is null)
        {
            throw await FailAsync(events, call, new ApplicationFailureException(
                $"The model called {call.Tool} with arguments that are not a JSON object.", InvalidArgumentsFailure, nonRetryable: true), cancellationToken);
        }
        if (toolbox.Find(call.Tool) is not { } function)
        {
            throw await FailAsync(events, call, new ApplicationFailureException(
                $"The model asked for tool '{call.Tool}', which this worker does not have. Tools: {string.Join(", ", toolbox.Names)}.",
                UnknownToolFailure, nonRetryable: true), cancellationToken);
        }

        string result;
        AgentToolContext.Current = new AgentToolContext
        {
            IdempotencyKey = IdempotencyKey(context.Info.WorkflowId ?? RunWorkflowIds.For(input.TenantId, input.RunId), input.Step, call.CallId),
            RunId = input.RunId,
            TenantId = input.TenantId,
            Step = input.Step,
            CallId = call.CallId,
            Attempt = events.Attempt,
        };
        try
        {
            FunctionResult output = await function.InvokeAsync(toolbox.Kernel, ToKernelArguments(arguments.Value), cancellationToken);
            result = output.ToString();
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The attempt's error is an event (and a log line), then the activity's retry policy decides.
            throw await FailAsync(events, call, e, cancellationToken);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            WorkerLog.ToolCallCanceled(logger, call.Tool, events.Attempt);
            throw;
        }
        finally
        {
            AgentToolContext.Current = null;
        }
        await events.PublishAsync(RunEventTypes.ToolResult, 0, result, cancellationToken, JsonSerializer.SerializeToElement(
            new ToolResultData(call.CallId, call.Tool, result, Error: null), AgentToolJsonContext.Default.ToolResultData));
        WorkerLog.ToolCallCompleted(logger, call.Tool, events.Attempt, result.Length);
        return new ToolCallResult { CallId = call.CallId, Tool = call.Tool, Result = result };
    }

    /// <summary>Same for every attempt of one call: workflow id, step and the model's call id.</summary>
    public static string IdempotencyKey(string workflowId, string step, string callId)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{workflowId}\n{step}\n{callId}"));
        return Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }

    private async Task<Exception> FailAsync(StepEventPublisher events, AgentToolCall call, Exception error, CancellationToken cancellationToken)
    {
        WorkerLog.ToolCallFailed(logger, error, call.Tool, events.Attempt);
        await events.PublishAsync(RunEventTypes.ToolResult, 0, text: null, cancellationToken, JsonSerializer.SerializeToElement(
            new ToolResultData(call.CallId, call.Tool, Result: null, error.Message), AgentToolJsonContext.Default.ToolResultData));
        return error;
    }

    private static JsonElement? ParseObject(string json)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // Strings as strings, anything else as its JSON text: Semantic Kernel converts text to the parameter's type.
    private static KernelArguments ToKernelArguments(JsonElement arguments)
    {
        var kernelArguments = new KernelArguments();
        foreach (JsonProperty property in arguments.EnumerateObject())
        {
            kernelArguments[property.Name] = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString(),
                JsonValueKind.Null => null,
                _ => property.Value.GetRawText(),
            };
        }
        return kernelArguments;
    }
}
