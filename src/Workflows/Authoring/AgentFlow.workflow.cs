using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using Temporalio.Exceptions;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows.Authoring;

/// <summary>
/// The authoring library a flow's workflow uses: one instance per run, made by <see cref="RunAsync"/>, which also
/// publishes the run's lifecycle events. Everything here runs inside the workflow, so it only uses Workflow.* APIs
/// and activities; model and tool calls are activities (agent.model-turn, agent.tool-call) that stream to the bus.
/// Step ids are made unique per run: a second turn of an agent named "critic" is step "critic.2".
/// </summary>
public sealed class AgentFlow
{
    private readonly Dictionary<string, int> _stepUses = new(StringComparer.Ordinal);

    private AgentFlow(RunInput run) => Run = run;

    /// <summary>The run's input as the gateway started it.</summary>
    public RunInput Run { get; }

    /// <summary>
    /// Runs a flow body as a run: publishes run.started, then run.completed with the body's result, run.failed with
    /// the failure's message, or run.canceled. Call it as the whole [WorkflowRun] method.
    /// </summary>
    public static async Task<string> RunAsync(RunInput input, Func<AgentFlow, Task<string>> body)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(body);
        var flow = new AgentFlow(input);
        await flow.PublishAsync(RunEventTypes.RunStarted, text: null, Workflow.CancellationToken);
        try
        {
            string result = await body(flow);
            await flow.PublishAsync(RunEventTypes.RunCompleted, result, Workflow.CancellationToken);
            return result;
        }
        catch (Exception e) when (TemporalException.IsCanceledException(e))
        {
            // The run's own token is canceled already: publish on a detached one.
            using var detached = new CancellationTokenSource();
            await flow.PublishAsync(RunEventTypes.RunCanceled, text: null, detached.Token);
            throw;
        }
        catch (FailureException e)
        {
            // Only Temporal failures end the run; any other exception fails the workflow task, which is retried.
            await flow.PublishAsync(RunEventTypes.RunFailed, FailureMessage(e), Workflow.CancellationToken);
            throw;
        }
    }

    /// <summary>
    /// One agent run: model turns until the model answers with text, running the tools it asks for (each call its
    /// own activity) in between. Fails with <see cref="AgentFailures.MaxIterationsExceeded"/> when the model still
    /// asks for tools on its last allowed turn. <paramref name="step"/> defaults to the agent's name.
    /// </summary>
    public async Task<AgentResult> RunAgentAsync(Agent agent, string prompt, string? step = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(agent);
        (AgentResult result, AgentToolCall? control) = await LoopAsync(agent, NextStep(step ?? agent.Name), [User(prompt)], onControl: null, cancellationToken);
        return control is null ? result : throw UnhandledControl(agent, control);
    }

    /// <summary>
    /// Runs the branches in parallel and gathers them. The policy says how many must succeed; branches that fail
    /// are reported in <see cref="FanOutResult.Failed"/>, and when too many fail the rest are canceled and the
    /// fan-out fails with <see cref="AgentFailures.FanOutFailed"/> naming the failed branches.
    /// </summary>
    public async Task<FanOutResult> FanOutAsync(IReadOnlyList<FanOutBranch> branches, FanOutPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(branches);
        ArgumentNullException.ThrowIfNull(policy);
        int required = policy.RequiredSuccesses(branches.Count);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Workflow.CancellationToken);
        // Steps are named before anything starts, in branch order, so names do not depend on completion order.
        var pending = new List<Task<BranchOutcome>>(branches.Count);
        for (int i = 0; i < branches.Count; i++)
        {
            FanOutBranch branch = branches[i];
            pending.Add(RunBranchAsync(i, branch, NextStep(branch.Step ?? branch.Agent.Name), cancel.Token));
        }
        var outcomes = new List<BranchOutcome>(branches.Count);
        int failures = 0;
        while (pending.Count > 0)
        {
            Task<BranchOutcome> done = await Workflow.WhenAnyAsync(pending);
            pending.Remove(done);
            BranchOutcome outcome = await done;
            outcomes.Add(outcome);
            if (outcome.Failure is not null && ++failures > branches.Count - required)
            {
                await cancel.CancelAsync();
                List<FanOutFailure> failed = outcomes.Where(o => o.Failure is not null).Select(o => o.Failure!).ToList();
                throw new ApplicationFailureException(
                    $"Fan-out needed {required} of {branches.Count} branches; failed: {Describe(failed)}",
                    AgentFailures.FanOutFailed, nonRetryable: true);
            }
        }
        outcomes.Sort((a, b) => a.Index.CompareTo(b.Index));
        return new FanOutResult(
            outcomes.Where(o => o.Result is not null).Select(o => o.Result!).ToList(),
            outcomes.Where(o => o.Failure is not null).Select(o => o.Failure!).ToList());
    }

    /// <summary>
    /// Router/handoff: the router agent sees the specialists (name and instructions) and picks one by calling
    /// <see cref="ControlTools.Handoff"/>; the chosen specialist then answers the prompt. A router that answers with
    /// text itself keeps the conversation (<see cref="HandoffResult.Specialist"/> is null). A handoff to an agent
    /// that is not offered fails with <see cref="AgentFailures.InvalidHandoff"/>.
    /// </summary>
    public async Task<HandoffResult> HandoffAsync(Agent router, IReadOnlyList<Agent> specialists, string prompt)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(specialists);
        Agent routing = WithRoster(router, specialists, "Hand the conversation to exactly one of these agents by calling the handoff tool");
        (AgentResult routed, AgentToolCall? control) = await LoopAsync(routing, NextStep(router.Name), [User(prompt)], onControl: null, default);
        if (control is null)
        {
            return new HandoffResult(routed, Specialist: null, Answer: routed);
        }
        (Agent specialist, string? reason) = ResolveHandoff(control, specialists);
        string specialistPrompt = reason is null ? prompt : $"{prompt}\n\nNote from {router.Name}: {reason}";
        AgentResult answer = await RunAgentAsync(specialist, specialistPrompt);
        return new HandoffResult(routed, specialist, answer);
    }

    /// <summary>
    /// Writer/critic loop: the writer drafts, the critic gives a verdict through <see cref="ControlTools.Verdict"/>
    /// ({"approved", "feedback"}); on rejection the writer revises with the feedback. Stops on approval or after
    /// <paramref name="maxRounds"/> rounds (then the last draft is returned, <see cref="CritiqueResult.Approved"/> false).
    /// A critic that answers with text instead of a verdict counts as a rejection with that text as feedback.
    /// </summary>
    public async Task<CritiqueResult> CritiqueLoopAsync(Agent writer, Agent critic, string request, int maxRounds)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(critic);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRounds, 1);
        Agent judging = critic.Tools.Contains(ControlTools.Verdict) ? critic : critic with { Tools = [.. critic.Tools, ControlTools.Verdict] };
        var verdicts = new List<CritiqueVerdict>();
        string? draft = null;
        for (int round = 1; round <= maxRounds; round++)
        {
            string writerPrompt = draft is null
                ? request
                : $"Request:\n{request}\n\nYour previous draft:\n{draft}\n\nCritic's feedback:\n{verdicts[^1].Feedback}\n\nWrite an improved draft.";
            draft = (await RunAgentAsync(writer, writerPrompt)).Text;
            (AgentResult judged, AgentToolCall? control) = await LoopAsync(
                judging, NextStep(critic.Name), [User($"Request:\n{request}\n\nDraft:\n{draft}")], onControl: null, default);
            CritiqueVerdict verdict = control is null ? new CritiqueVerdict(false, judged.Text) : ParseVerdict(control);
            verdicts.Add(verdict);
            if (verdict.Approved)
            {
                return new CritiqueResult(draft, round, Approved: true, verdicts);
            }
        }
        return new CritiqueResult(draft!, maxRounds, Approved: false, verdicts);
    }

    /// <summary>
    /// Supervisor: the supervisor agent delegates tasks to specialists by calling <see cref="ControlTools.Handoff"/>
    /// ({"agent", "task"}); each delegation runs that specialist and returns its answer to the supervisor as the
    /// tool's result, until the supervisor answers with text (bounded by its <see cref="Agent.MaxIterations"/>).
    /// </summary>
    public async Task<AgentResult> SuperviseAsync(Agent supervisor, IReadOnlyList<Agent> specialists, string prompt)
    {
        ArgumentNullException.ThrowIfNull(supervisor);
        ArgumentNullException.ThrowIfNull(specialists);
        Agent delegating = WithRoster(supervisor, specialists, "Delegate tasks to these agents by calling the handoff tool with the agent and the task");
        (AgentResult result, _) = await LoopAsync(delegating, NextStep(supervisor.Name), [User(prompt)], async call =>
        {
            (Agent specialist, string? task) = ResolveHandoff(call, specialists);
            return (await RunAgentAsync(specialist, task ?? prompt)).Text;
        }, default);
        return result;
    }

    /// <summary>The step id to use for <paramref name="name"/>: the name itself the first time, then "name.2", "name.3", ...</summary>
    public string NextStep(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        int uses = _stepUses.GetValueOrDefault(name) + 1;
        _stepUses[name] = uses;
        return uses == 1 ? name : $"{name}.{uses}";
    }

    // The agent loop. A control tool call either ends the loop and is returned (onControl null: the caller decides)
    // or is answered by onControl (delegation) like a tool result.
    private async Task<(AgentResult Result, AgentToolCall? Control)> LoopAsync(
        Agent agent, string step, List<AgentMessage> messages, Func<AgentToolCall, Task<string>>? onControl, CancellationToken cancellationToken)
    {
        int promptTokens = 0;
        int completionTokens = 0;
        for (int turn = 1; ; turn++)
        {
            string turnStep = turn == 1 ? step : $"{step}.turn{turn}";
            ModelTurnResult answer = await Workflow.ExecuteActivityAsync<ModelTurnResult>(
                AgentActivityNames.ModelTurn,
                [new ModelTurnInput
                {
                    RunId = Run.RunId,
                    TenantId = Run.TenantId,
                    Step = turnStep,
                    Agent = agent.Name,
                    Instructions = agent.Instructions,
                    Messages = [.. messages],
                    Tools = agent.Tools,
                    Model = agent.Model,
                    Temperature = agent.Temperature,
                }],
                With(agent.ModelCall ?? AgentActivityOptions.ModelCall, cancellationToken));
            promptTokens += answer.PromptTokens;
            completionTokens += answer.CompletionTokens;
            var result = new AgentResult
            {
                Agent = agent.Name,
                Step = step,
                Text = answer.Text,
                PromptTokens = promptTokens,
                CompletionTokens = completionTokens,
                ModelTurns = turn,
            };
            if (answer.ToolCalls.Count == 0)
            {
                return (result, null);
            }
            AgentToolCall? control = answer.ToolCalls.FirstOrDefault(c => IsControl(c.Tool));
            if (control is not null && onControl is null)
            {
                return (result, control);
            }
            if (turn >= agent.MaxIterations)
            {
                throw new ApplicationFailureException(
                    $"Agent '{agent.Name}' still asked for tools after {turn} model turns, its limit (MaxIterations).",
                    AgentFailures.MaxIterationsExceeded, nonRetryable: true);
            }
            messages.Add(new AgentMessage { Role = AgentMessageRoles.Assistant, Text = answer.Text, ToolCalls = answer.ToolCalls });
            var calls = new List<Task<string>>(answer.ToolCalls.Count);
            for (int i = 0; i < answer.ToolCalls.Count; i++)
            {
                AgentToolCall call = answer.ToolCalls[i];
                calls.Add(IsControl(call.Tool)
                    ? onControl!(call)
                    : CallToolAsync(agent, $"{step}.tool{turn}.{i + 1}", call, cancellationToken));
            }
            string[] results = await Workflow.WhenAllAsync(calls);
            for (int i = 0; i < results.Length; i++)
            {
                messages.Add(new AgentMessage
                {
                    Role = AgentMessageRoles.Tool,
                    Text = results[i],
                    ToolCallId = answer.ToolCalls[i].CallId,
                    Tool = answer.ToolCalls[i].Tool,
                });
            }
        }
    }

    private async Task<string> CallToolAsync(Agent agent, string step, AgentToolCall call, CancellationToken cancellationToken)
    {
        ToolCallResult result = await Workflow.ExecuteActivityAsync<ToolCallResult>(
            AgentActivityNames.ToolCall,
            [new ToolCallInput { RunId = Run.RunId, TenantId = Run.TenantId, Step = step, Agent = agent.Name, Call = call }],
            With(agent.ToolCall ?? AgentActivityOptions.ToolCall, cancellationToken));
        return result.Result;
    }

    private async Task<BranchOutcome> RunBranchAsync(int index, FanOutBranch branch, string step, CancellationToken cancellationToken)
    {
        try
        {
            (AgentResult result, AgentToolCall? control) = await LoopAsync(branch.Agent, step, [User(branch.Prompt)], onControl: null, cancellationToken);
            return control is null ? new BranchOutcome(index, result, null) : throw UnhandledControl(branch.Agent, control);
        }
        catch (FailureException e) when (!TemporalException.IsCanceledException(e))
        {
            return new BranchOutcome(index, null, new FanOutFailure(branch.Agent.Name, step, FailureMessage(e)));
        }
    }

    // A control tool in a plain agent run is a flow bug: fail loudly rather than return an empty answer.
    private static ApplicationFailureException UnhandledControl(Agent agent, AgentToolCall call) => new(
        $"Agent '{agent.Name}' called {call.Tool}, which only HandoffAsync, CritiqueLoopAsync and SuperviseAsync handle; do not list it in the agent's tools.",
        AgentFailures.UnhandledControlTool, nonRetryable: true);

    private static Agent WithRoster(Agent agent, IReadOnlyList<Agent> specialists, string lead)
    {
        var roster = new StringBuilder(agent.Instructions).Append("\n\n").Append(lead).Append(":\n");
        foreach (Agent specialist in specialists)
        {
            roster.Append("- ").Append(specialist.Name).Append(": ").Append(specialist.Instructions).Append('\n');
        }
        return agent with
        {
            Instructions = roster.ToString(),
            Tools = agent.Tools.Contains(ControlTools.Handoff) ? agent.Tools : [.. agent.Tools, ControlTools.Handoff],
        };
    }

    private static (Agent Agent, string? Note) ResolveHandoff(AgentToolCall call, IReadOnlyList<Agent> specialists)
    {
        using JsonDocument arguments = ParseArguments(call);
        string? name = StringProperty(arguments.RootElement, "agent");
        Agent? target = specialists.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));
        if (target is null)
        {
            throw new ApplicationFailureException(
                $"The model handed off to '{name}', which is not one of: {string.Join(", ", specialists.Select(s => s.Name))}.",
                AgentFailures.InvalidHandoff, nonRetryable: true);
        }
        return (target, StringProperty(arguments.RootElement, "task") ?? StringProperty(arguments.RootElement, "reason"));
    }

    private static CritiqueVerdict ParseVerdict(AgentToolCall call)
    {
        using JsonDocument arguments = ParseArguments(call);
        bool approved = arguments.RootElement.ValueKind == JsonValueKind.Object
            && arguments.RootElement.TryGetProperty("approved", out JsonElement value)
            && value.ValueKind == JsonValueKind.True;
        return new CritiqueVerdict(approved, StringProperty(arguments.RootElement, "feedback") ?? string.Empty);
    }

    private static JsonDocument ParseArguments(AgentToolCall call)
    {
        try
        {
            return JsonDocument.Parse(call.Arguments);
        }
        catch (JsonException e)
        {
            throw new ApplicationFailureException(
                $"The model called {call.Tool} with arguments that are not JSON: {e.Message}", AgentFailures.InvalidHandoff, nonRetryable: true);
        }
    }

    private static string? StringProperty(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static bool IsControl(string tool) => tool is ControlTools.Handoff or ControlTools.Verdict;

    private static AgentMessage User(string prompt) => new() { Role = AgentMessageRoles.User, Text = prompt };

    private static ActivityOptions With(ActivityOptions options, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return options;
        }
        var copy = (ActivityOptions)options.Clone();
        copy.CancellationToken = cancellationToken;
        return copy;
    }

    private Task PublishAsync(string type, string? text, CancellationToken cancellationToken) =>
        RunEventPublishing.PublishAsync(new RunLifecycleEvent { RunId = Run.RunId, TenantId = Run.TenantId, Type = type, Text = text }, cancellationToken);

    private static string Describe(IEnumerable<FanOutFailure> failures) =>
        string.Join("; ", failures.Select(f => $"{f.Step} ({f.Agent}): {f.Error}"));

    /// <summary>The cause under activity wrappers says what went wrong (the model's error, a timeout), not "activity failed".</summary>
    public static string FailureMessage(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        Exception current = e;
        while (current is ActivityFailureException && current.InnerException is not null)
        {
            current = current.InnerException;
        }
        return current.Message;
    }

    private sealed record BranchOutcome(int Index, AgentResult? Result, FanOutFailure? Failure);
}
