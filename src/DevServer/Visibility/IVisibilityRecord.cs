namespace AgentOrchestrator.DevServer.Visibility;

/// <summary>The per-execution data a <see cref="VisibilityQuery"/> is evaluated against.</summary>
public interface IVisibilityRecord
{
    string WorkflowId { get; }

    string RunId { get; }

    string WorkflowType { get; }

    string TaskQueue { get; }

    Temporalio.Api.Enums.V1.WorkflowExecutionStatus Status { get; }

    /// <summary>UTC.</summary>
    DateTime StartTime { get; }

    /// <summary>UTC.</summary>
    DateTime ExecutionTime { get; }

    /// <summary>UTC; null while the execution is running.</summary>
    DateTime? CloseTime { get; }

    string? ParentWorkflowId { get; }

    string? ParentRunId { get; }

    long HistoryLength { get; }

    /// <summary>
    /// Custom search attributes as Temporal sends them: json/plain payloads whose metadata "type" is
    /// Keyword, KeywordList, Text, Int, Double, Bool or Datetime (e.g. data <c>"tenant-a"</c>,
    /// <c>["a","b"]</c>, <c>42</c>, <c>"2026-01-01T00:00:00Z"</c>).
    /// </summary>
    IReadOnlyDictionary<string, Temporalio.Api.Common.V1.Payload> SearchAttributes { get; }
}
