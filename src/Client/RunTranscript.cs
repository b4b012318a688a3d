using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Client;

/// <summary>Where a run stands, as a transcript shows it.</summary>
public enum RunTranscriptStatus
{
    /// <summary>No lifecycle event seen yet.</summary>
    Pending,

    /// <summary>run.started seen, no terminal event yet.</summary>
    Running,

    /// <summary>run.completed seen.</summary>
    Completed,

    /// <summary>run.failed seen.</summary>
    Failed,

    /// <summary>run.canceled seen.</summary>
    Canceled,
}

/// <summary>
/// What a UI renders for one run, built by applying its events in order: per step the current attempt's text (a
/// retried step's earlier text is dropped), tool calls with their results, input requests, and the final status.
/// Apply takes raw events too (duplicates and superseded attempts are filtered here as in
/// <see cref="AgentOrchestratorClient.SubscribeAsync"/>). Not thread-safe: apply from one consumer.
/// </summary>
public sealed class RunTranscript
{
    private readonly RunEventFilter _filter = new();
    private readonly List<StepTranscript> _steps = [];
    private readonly List<InputRequest> _inputRequests = [];

    /// <summary>Where the run stands.</summary>
    public RunTranscriptStatus Status { get; private set; }

    /// <summary>run.completed's text: the run's result.</summary>
    public string? Result { get; private set; }

    /// <summary>run.failed's or run.canceled's text.</summary>
    public string? Error { get; private set; }

    /// <summary>Steps in the order they first appeared.</summary>
    public IReadOnlyList<StepTranscript> Steps => _steps;

    /// <summary>Human input the run asked for, in order.</summary>
    public IReadOnlyList<InputRequest> InputRequests => _inputRequests;

    /// <summary>How many times the gateway told the client to discard its state (stream.reset).</summary>
    public int Resets { get; private set; }

    /// <summary>The id of the last event applied: the cursor to resume from.</summary>
    public string? Cursor { get; private set; }

    /// <summary>True once a terminal event (completed, failed, canceled) was applied.</summary>
    public bool IsFinished => Status is RunTranscriptStatus.Completed or RunTranscriptStatus.Failed or RunTranscriptStatus.Canceled;

    /// <summary>The step with id <paramref name="step"/>, or null.</summary>
    public StepTranscript? Step(string step)
    {
        foreach (var candidate in _steps)
        {
            if (candidate.Step == step)
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>Applies one event; false when it was a duplicate or from a superseded attempt and changed nothing.</summary>
    public bool Apply(RunEvent runEvent)
    {
        if (_filter.Take(runEvent) is not { } taken)
        {
            return false;
        }
        runEvent = taken; // a token overlapping held text is applied trimmed to its new part
        if (runEvent.Type == RunEventTypes.StreamReset)
        {
            _steps.Clear();
            _inputRequests.Clear();
            Status = RunTranscriptStatus.Pending;
            Result = null;
            Error = null;
            Cursor = null;
            Resets++;
            return true;
        }
        Cursor = runEvent.Id;
        if (runEvent.Step is { } stepId)
        {
            ApplyStepEvent(StepFor(stepId, runEvent), runEvent);
        }
        switch (runEvent.Type)
        {
            case RunEventTypes.RunStarted:
                Status = RunTranscriptStatus.Running;
                break;
            case RunEventTypes.RunCompleted:
                Status = RunTranscriptStatus.Completed;
                Result = runEvent.Text;
                break;
            case RunEventTypes.RunFailed:
                Status = RunTranscriptStatus.Failed;
                Error = runEvent.Text;
                break;
            case RunEventTypes.RunCanceled:
                Status = RunTranscriptStatus.Canceled;
                Error = runEvent.Text;
                break;
            case RunEventTypes.InputRequested when runEvent.Data is { ValueKind: JsonValueKind.Object } data:
                _inputRequests.Add(new InputRequest(
                    Str(data, "requestId") ?? runEvent.Id,
                    Str(data, "prompt") ?? runEvent.Text ?? string.Empty,
                    data.TryGetProperty("schema", out var schema) ? schema.Clone() : null,
                    data.TryGetProperty("timeoutSeconds", out var timeout) && timeout.TryGetInt32(out var seconds) ? seconds : null,
                    runEvent.Step));
                break;
            default:
                break;
        }
        return true;
    }

    private StepTranscript StepFor(string stepId, RunEvent runEvent)
    {
        var step = Step(stepId);
        if (step is null)
        {
            step = new StepTranscript(stepId, runEvent.Agent, runEvent.Attempt);
            _steps.Add(step);
        }
        return step;
    }

    private static void ApplyStepEvent(StepTranscript step, RunEvent runEvent)
    {
        if (runEvent.Attempt > step.Attempt)
        {
            step.StartAttempt(runEvent.Attempt);
        }
        step.Agent ??= runEvent.Agent;
        switch (runEvent.Type)
        {
            case RunEventTypes.Token:
                step.Append(runEvent.Text);
                break;
            case RunEventTypes.StepCompleted:
                step.IsCompleted = true;
                break;
            case RunEventTypes.ToolCall when runEvent.Data is { ValueKind: JsonValueKind.Object } data:
                step.CallFor(Str(data, "callId") ?? runEvent.Id, Str(data, "tool")).Arguments =
                    data.TryGetProperty("arguments", out var arguments) ? arguments.Clone() : null;
                break;
            case RunEventTypes.ToolResult when runEvent.Data is { ValueKind: JsonValueKind.Object } data:
                var call = step.CallFor(Str(data, "callId") ?? runEvent.Id, Str(data, "tool"));
                call.Result = data.TryGetProperty("result", out var result) ? result.Clone() : null;
                call.Error = Str(data, "error");
                call.HasResult = true;
                break;
            default:
                break;
        }
    }

    private static string? Str(JsonElement data, string name) =>
        data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>One step of a run: the current attempt's streamed text and its tool calls.</summary>
public sealed class StepTranscript
{
    private readonly StringBuilder _text = new();
    private readonly List<ToolCallTranscript> _toolCalls = [];

    internal StepTranscript(string step, string? agent, int attempt)
    {
        Step = step;
        Agent = agent;
        Attempt = attempt;
    }

    /// <summary>The step id (unique within the run).</summary>
    public string Step { get; }

    /// <summary>The agent that runs the step.</summary>
    public string? Agent { get; internal set; }

    /// <summary>The attempt whose text this is; earlier attempts' text was dropped.</summary>
    public int Attempt { get; private set; }

    /// <summary>How many attempts this step had before the current one showed its text (0: none superseded).</summary>
    public int SupersededAttempts { get; private set; }

    /// <summary>The current attempt's text so far.</summary>
    public string Text => _text.ToString();

    /// <summary>True once the current attempt completed.</summary>
    public bool IsCompleted { get; internal set; }

    /// <summary>Tool calls of the current attempt, in the order they were made.</summary>
    public IReadOnlyList<ToolCallTranscript> ToolCalls => _toolCalls;

    internal void StartAttempt(int attempt)
    {
        SupersededAttempts++;
        Attempt = attempt;
        IsCompleted = false;
        _text.Clear();
        _toolCalls.Clear();
    }

    internal void Append(string? text) => _text.Append(text);

    internal ToolCallTranscript CallFor(string callId, string? tool)
    {
        foreach (var call in _toolCalls)
        {
            if (call.CallId == callId)
            {
                return call;
            }
        }
        var added = new ToolCallTranscript(callId, tool);
        _toolCalls.Add(added);
        return added;
    }
}

/// <summary>A tool call a step made and, once it arrived, its result or error.</summary>
public sealed class ToolCallTranscript
{
    internal ToolCallTranscript(string callId, string? tool)
    {
        CallId = callId;
        Tool = tool;
    }

    /// <summary>The call's id (pairs the call with its result).</summary>
    public string CallId { get; }

    /// <summary>The tool's name.</summary>
    public string? Tool { get; }

    /// <summary>The arguments the model passed.</summary>
    public JsonElement? Arguments { get; internal set; }

    /// <summary>True once tool.result arrived.</summary>
    public bool HasResult { get; internal set; }

    /// <summary>The tool's result, when it succeeded.</summary>
    public JsonElement? Result { get; internal set; }

    /// <summary>The tool's error, when it failed.</summary>
    public string? Error { get; internal set; }
}

/// <summary>Human input a run asked for (answer it with the request id).</summary>
public sealed record InputRequest(string RequestId, string Prompt, JsonElement? Schema, int? TimeoutSeconds, string? Step);
