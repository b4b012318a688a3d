using System.Runtime.CompilerServices;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using Json.Schema;
using Temporalio.Exceptions;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows;

/// <summary>What a person answered to an input request, or the declared default when nobody answered in time.</summary>
public sealed record HumanInputAnswer(string RequestId, JsonElement Answer, bool TimedOut);

/// <summary>
/// Human in the loop for any flow: <see cref="RequestAsync"/> publishes an input.requested event and waits for the
/// answer, which arrives as the "provide-input" update (<see cref="HumanInputUpdates.ProvideInput"/>). The update is
/// registered on first use, so flows need no handler of their own. Its validator rejects, before anything enters
/// history, an unknown or already closed request id and an answer that does not match the request's JSON schema.
/// Call only from workflow code of a workflow whose id is a run's (<see cref="RunWorkflowIds"/>).
/// </summary>
public static class HumanInput
{
    /// <summary>Error types of a rejected answer (the update's ApplicationFailure type), for callers that tell them apart.</summary>
    public const string UnknownRequestError = "UnknownInputRequest";
    /// <summary>The request was already answered or timed out.</summary>
    public const string ClosedRequestError = "InputRequestClosed";
    /// <summary>The answer does not match the request's JSON schema.</summary>
    public const string SchemaMismatchError = "InputSchemaMismatch";

    // Per workflow instance (keyed by the instance object, so concurrent workflows on one worker never share state).
    private static readonly ConditionalWeakTable<object, State> States = [];

    /// <summary>
    /// Asks a person for input and waits for a valid answer. The request id is <paramref name="stepId"/> (step ids are
    /// unique within a run). With a <paramref name="timeout"/>, <paramref name="defaultAnswer"/> is returned (with
    /// <see cref="HumanInputAnswer.TimedOut"/> set) when nobody answered in time, and later answers are rejected.
    /// </summary>
    /// <exception cref="ArgumentException">The schema is not a JSON schema object, the default does not match it, a
    /// timeout comes without a default, or the step already asked (a flow bug: fails the workflow task).</exception>
    public static async Task<HumanInputAnswer> RequestAsync(
        string stepId, string prompt, JsonElement schema, TimeSpan? timeout = null, JsonElement? defaultAnswer = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stepId);
        ArgumentException.ThrowIfNullOrWhiteSpace(prompt);
        if (!RunWorkflowIds.TryParse(Workflow.Info.WorkflowId, out string tenantId, out string runId))
        {
            throw new InvalidOperationException($"Workflow id '{Workflow.Info.WorkflowId}' is not a run's: input events could not be addressed.");
        }
        if (timeout is { } limit && (limit <= TimeSpan.Zero || defaultAnswer is null))
        {
            throw new ArgumentException("A timeout must be positive and come with a default answer.", nameof(timeout));
        }
        JsonSchema compiled = Compile(schema);
        if (defaultAnswer is { } fallback && Mismatch(compiled, fallback) is { } problem)
        {
            throw new ArgumentException($"The default answer does not match the schema: {problem}", nameof(defaultAnswer));
        }

        State state = StateOfCurrentWorkflow();
        if (!state.Requests.TryAdd(stepId, new Request(compiled)))
        {
            throw new ArgumentException($"Step '{stepId}' already asked for input in this run; step ids must be unique.", nameof(stepId));
        }
        Request request = state.Requests[stepId];

        var data = new InputRequestedData(stepId, prompt, schema.Clone(), timeout is { } t ? (int)Math.Ceiling(t.TotalSeconds) : null);
        await RunEventPublishing.PublishAsync(new RunLifecycleEvent
        {
            RunId = runId,
            TenantId = tenantId,
            Type = RunEventTypes.InputRequested,
            Step = stepId,
            Data = JsonSerializer.SerializeToElement(data, JsonSerializerOptions.Web),
        }, Workflow.CancellationToken);

        bool answered = await Workflow.WaitConditionAsync(() => request.Answer is not null, timeout ?? Timeout.InfiniteTimeSpan);
        request.Closed = true;
        return answered
            ? new HumanInputAnswer(stepId, request.Answer!.Value, TimedOut: false)
            : new HumanInputAnswer(stepId, defaultAnswer!.Value, TimedOut: true);
    }

    private static State StateOfCurrentWorkflow()
    {
        State state = States.GetValue(Workflow.Instance, _ => new State());
        if (!state.Registered)
        {
            Workflow.Updates[HumanInputUpdates.ProvideInput] = WorkflowUpdateDefinition.CreateWithoutAttribute(
                HumanInputUpdates.ProvideInput,
                (ProvideInputRequest input) => state.Accept(input),
                (ProvideInputRequest input) => state.Validate(input));
            state.Registered = true;
        }
        return state;
    }

    private static JsonSchema Compile(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("The input schema must be a JSON schema object.", nameof(schema));
        }
        try
        {
            // A registry per schema: a schema's $id never leaks into, or collides with, another workflow's.
            return JsonSchema.Build(schema, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        }
        catch (Exception e) when (e is JsonSchemaException or JsonException or InvalidOperationException)
        {
            throw new ArgumentException($"The input schema is not a valid JSON schema: {e.Message}", nameof(schema), e);
        }
    }

    /// <summary>Null when <paramref name="value"/> matches; otherwise what is wrong, with the failing locations.</summary>
    private static string? Mismatch(JsonSchema schema, JsonElement value)
    {
        EvaluationResults results = schema.Evaluate(value, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid)
        {
            return null;
        }
        var problems = new List<string>();
        foreach (EvaluationResults detail in results.Details ?? [])
        {
            foreach ((string keyword, string message) in detail.Errors ?? new Dictionary<string, string>())
            {
                problems.Add($"{Location(detail.InstanceLocation.ToString())} ({keyword}): {message}");
            }
        }
        return problems.Count == 0 ? "the answer does not match the schema" : string.Join("; ", problems);
    }

    private static string Location(string pointer) => pointer.Length == 0 ? "answer" : "answer" + pointer;

    private sealed class Request(JsonSchema schema)
    {
        public JsonSchema Schema { get; } = schema;

        public JsonElement? Answer { get; set; }

        public bool Closed { get; set; }
    }

    private sealed class State
    {
        public Dictionary<string, Request> Requests { get; } = new(StringComparer.Ordinal);

        public bool Registered { get; set; }

        // The validator only reads: a rejected update leaves no trace in history and changes nothing.
        public void Validate(ProvideInputRequest input)
        {
            if (input is null || string.IsNullOrEmpty(input.RequestId))
            {
                throw new ApplicationFailureException("The answer must name a requestId.", UnknownRequestError);
            }
            if (!Requests.TryGetValue(input.RequestId, out Request? request))
            {
                throw new ApplicationFailureException($"No input request '{input.RequestId}' exists in this run.", UnknownRequestError);
            }
            if (request.Closed || request.Answer is not null)
            {
                throw new ApplicationFailureException(
                    $"Input request '{input.RequestId}' is already answered or timed out.", ClosedRequestError);
            }
            if (Mismatch(request.Schema, input.Answer) is { } problem)
            {
                throw new ApplicationFailureException($"The answer does not match the schema: {problem}", SchemaMismatchError);
            }
        }

        public Task Accept(ProvideInputRequest input)
        {
            Requests[input.RequestId].Answer = input.Answer.Clone();
            return Task.CompletedTask;
        }
    }
}
