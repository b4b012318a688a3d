using System.Text.Json;

namespace AgentOrchestrator.Contracts;

/// <summary>Names shared by the gateway (which starts runs) and the workers (which run them).</summary>
public static class Flows
{
    /// <summary>Writer, then reviewer.</summary>
    public const string WriterReviewer = "writer-reviewer";
    /// <summary>Planner, researchers, writer and critic.</summary>
    public const string ResearchTeam = "research-team";
    /// <summary>Triage, a specialist, and a person's approval.</summary>
    public const string SupportTriage = "support-triage";
}

/// <summary>Temporal task queues of the shipped worker.</summary>
public static class TaskQueues
{
    /// <summary>The task queue agent workflows and activities run on.</summary>
    public const string Agents = "agent-orchestrator";
}

/// <summary>Workflow ids carry the tenant, so a run id alone never reaches another tenant's run.</summary>
public static class RunWorkflowIds
{
    /// <summary>The workflow id of run <paramref name="runId"/> of tenant <paramref name="tenantId"/>.</summary>
    public static string For(string tenantId, string runId) => $"tenant/{tenantId}/run/{runId}";

    /// <summary>The tenant and run of a workflow id made by <see cref="For"/>; false for any other id.</summary>
    public static bool TryParse(string workflowId, out string tenantId, out string runId)
    {
        ArgumentNullException.ThrowIfNull(workflowId);
        string[] parts = workflowId.Split('/');
        bool valid = parts is ["tenant", { Length: > 0 }, "run", { Length: > 0 }];
        tenantId = valid ? parts[1] : string.Empty;
        runId = valid ? parts[3] : string.Empty;
        return valid;
    }
}

/// <summary>What a flow's workflow is started with.</summary>
public sealed record RunInput
{
    /// <summary>The run's id, unique within the tenant.</summary>
    public required string RunId { get; init; }

    /// <summary>The tenant that started the run.</summary>
    public required string TenantId { get; init; }

    /// <summary>The flow's name (its workflow type).</summary>
    public required string Flow { get; init; }

    /// <summary>The caller's input text.</summary>
    public required string Input { get; init; }
}

/// <summary>One agent turn: the model call an agent activity makes, streamed to the run's subscribers.</summary>
public sealed record AgentStepInput
{
    /// <summary>The run the step belongs to.</summary>
    public required string RunId { get; init; }

    /// <summary>The run's tenant.</summary>
    public required string TenantId { get; init; }

    /// <summary>Step id within the flow, e.g. "writer".</summary>
    public required string Step { get; init; }

    /// <summary>The agent's name, as subscribers see it.</summary>
    public required string Agent { get; init; }

    /// <summary>The agent's system instructions.</summary>
    public required string Instructions { get; init; }

    /// <summary>The user message for this turn.</summary>
    public required string Prompt { get; init; }

    /// <summary>Model name; null uses the worker's configured default.</summary>
    public string? Model { get; init; }

    /// <summary>Earlier messages of the conversation, sent to the model between the instructions and the prompt.</summary>
    public IReadOnlyList<ConversationMessage>? History { get; init; }
}

/// <summary>A step's final text: the only model output that enters workflow history.</summary>
public sealed record AgentStepResult
{
    /// <summary>The step's final text.</summary>
    public required string Text { get; init; }

    /// <summary>Prompt tokens the model reported.</summary>
    public int PromptTokens { get; init; }

    /// <summary>Completion tokens the model reported.</summary>
    public int CompletionTokens { get; init; }
}

/// <summary>A run-level lifecycle event the workflow asks a worker to publish.</summary>
public sealed record RunLifecycleEvent
{
    /// <summary>The run.</summary>
    public required string RunId { get; init; }

    /// <summary>The run's tenant.</summary>
    public required string TenantId { get; init; }

    /// <summary>One of the run-level <see cref="RunEventTypes"/>.</summary>
    public required string Type { get; init; }

    /// <summary>The run's result or error text.</summary>
    public string? Text { get; init; }

    /// <summary>Set for an event that belongs to a step the workflow itself runs (input.requested): published as attempt 1, index 0.</summary>
    public string? Step { get; init; }

    /// <summary>Structured payload (<see cref="RunEvent.Data"/>).</summary>
    public JsonElement? Data { get; init; }
}
