using System.Text.Json;

namespace AgentOrchestrator.Contracts;

/// <summary>Names shared by the gateway (which starts runs) and the workers (which run them).</summary>
public static class Flows
{
    public const string WriterReviewer = "writer-reviewer";
    public const string ResearchTeam = "research-team";
    public const string SupportTriage = "support-triage";
}

public static class TaskQueues
{
    /// <summary>The task queue agent workflows and activities run on.</summary>
    public const string Agents = "agent-orchestrator";
}

/// <summary>Workflow ids carry the tenant, so a run id alone never reaches another tenant's run.</summary>
public static class RunWorkflowIds
{
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
    public required string RunId { get; init; }

    public required string TenantId { get; init; }

    public required string Flow { get; init; }

    public required string Input { get; init; }
}

/// <summary>One agent turn: the model call an agent activity makes, streamed to the run's subscribers.</summary>
public sealed record AgentStepInput
{
    public required string RunId { get; init; }

    public required string TenantId { get; init; }

    /// <summary>Step id within the flow, e.g. "writer".</summary>
    public required string Step { get; init; }

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
    public required string Text { get; init; }

    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }
}

/// <summary>A run-level lifecycle event the workflow asks a worker to publish.</summary>
public sealed record RunLifecycleEvent
{
    public required string RunId { get; init; }

    public required string TenantId { get; init; }

    public required string Type { get; init; }

    public string? Text { get; init; }

    /// <summary>Set for an event that belongs to a step the workflow itself runs (input.requested): published as attempt 1, index 0.</summary>
    public string? Step { get; init; }

    /// <summary>Structured payload (<see cref="RunEvent.Data"/>).</summary>
    public JsonElement? Data { get; init; }
}
