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
}
