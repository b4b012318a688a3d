using Temporalio.Api.Enums.V1;

namespace AgentOrchestrator.DevServer.Visibility;

internal enum SystemField
{
    WorkflowId,
    RunId,
    WorkflowType,
    TaskQueue,
    ExecutionStatus,
    StartTime,
    ExecutionTime,
    CloseTime,
    ParentWorkflowId,
    ParentRunId,
    HistoryLength,
}

/// <summary>How literals for a system field are checked and which operators it accepts.</summary>
internal enum SystemFieldType
{
    String,
    Status,
    Time,
    Integer,
}

internal static class SystemFields
{
    /// <summary>Temporal's printed names (what users write in queries), in enum order.</summary>
    private static readonly (string Name, WorkflowExecutionStatus Status)[] StatusNames =
    [
        ("Running", WorkflowExecutionStatus.Running),
        ("Completed", WorkflowExecutionStatus.Completed),
        ("Failed", WorkflowExecutionStatus.Failed),
        ("Canceled", WorkflowExecutionStatus.Canceled),
        ("Terminated", WorkflowExecutionStatus.Terminated),
        ("ContinuedAsNew", WorkflowExecutionStatus.ContinuedAsNew),
        ("TimedOut", WorkflowExecutionStatus.TimedOut),
    ];

    public static string StatusNameList { get; } = string.Join(", ", Array.ConvertAll(StatusNames, s => s.Name));

    /// <summary>Search attribute names are case-sensitive in Temporal, so only the exact spelling resolves.</summary>
    public static bool TryResolve(string name, out SystemField field)
    {
        SystemField? match = name switch
        {
            nameof(SystemField.WorkflowId) => SystemField.WorkflowId,
            nameof(SystemField.RunId) => SystemField.RunId,
            nameof(SystemField.WorkflowType) => SystemField.WorkflowType,
            nameof(SystemField.TaskQueue) => SystemField.TaskQueue,
            nameof(SystemField.ExecutionStatus) => SystemField.ExecutionStatus,
            nameof(SystemField.StartTime) => SystemField.StartTime,
            nameof(SystemField.ExecutionTime) => SystemField.ExecutionTime,
            nameof(SystemField.CloseTime) => SystemField.CloseTime,
            nameof(SystemField.ParentWorkflowId) => SystemField.ParentWorkflowId,
            nameof(SystemField.ParentRunId) => SystemField.ParentRunId,
            nameof(SystemField.HistoryLength) => SystemField.HistoryLength,
            _ => null,
        };
        field = match.GetValueOrDefault();
        return match.HasValue;
    }

    /// <summary>
    /// A system field spelled with different casing would otherwise silently become an (always absent) custom
    /// attribute, so the parser reports it instead.
    /// </summary>
    public static string? FindMiscasedName(string name)
    {
        foreach (SystemField field in Enum.GetValues<SystemField>())
        {
            string canonical = field.ToString();
            if (canonical.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return canonical;
            }
        }

        return null;
    }

    public static SystemFieldType TypeOf(SystemField field) => field switch
    {
        SystemField.ExecutionStatus => SystemFieldType.Status,
        SystemField.StartTime or SystemField.ExecutionTime or SystemField.CloseTime => SystemFieldType.Time,
        SystemField.HistoryLength => SystemFieldType.Integer,
        _ => SystemFieldType.String,
    };

    public static bool TryParseStatus(string name, out WorkflowExecutionStatus status)
    {
        foreach ((string candidate, WorkflowExecutionStatus value) in StatusNames)
        {
            if (candidate.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                status = value;
                return true;
            }
        }

        status = WorkflowExecutionStatus.Unspecified;
        return false;
    }

    public static bool IsKnownStatus(long value)
    {
        foreach ((_, WorkflowExecutionStatus status) in StatusNames)
        {
            if ((long)status == value)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads a system field; false means "absent" (null/empty string, unspecified status, open CloseTime).</summary>
    public static bool TryGetValue(IVisibilityRecord record, SystemField field, out QueryValue value)
    {
        switch (field)
        {
            case SystemField.WorkflowId:
                return TryString(record.WorkflowId, out value);
            case SystemField.RunId:
                return TryString(record.RunId, out value);
            case SystemField.WorkflowType:
                return TryString(record.WorkflowType, out value);
            case SystemField.TaskQueue:
                return TryString(record.TaskQueue, out value);
            case SystemField.ParentWorkflowId:
                return TryString(record.ParentWorkflowId, out value);
            case SystemField.ParentRunId:
                return TryString(record.ParentRunId, out value);
            case SystemField.ExecutionStatus:
                value = QueryValue.FromInteger((long)record.Status);
                return record.Status != WorkflowExecutionStatus.Unspecified;
            case SystemField.StartTime:
                value = QueryValue.FromTime(record.StartTime);
                return true;
            case SystemField.ExecutionTime:
                value = QueryValue.FromTime(record.ExecutionTime);
                return true;
            case SystemField.CloseTime:
                DateTime? closeTime = record.CloseTime;
                value = closeTime.HasValue ? QueryValue.FromTime(closeTime.Value) : default;
                return closeTime.HasValue;
            case SystemField.HistoryLength:
                value = QueryValue.FromInteger(record.HistoryLength);
                return true;
            default:
                throw new ArgumentOutOfRangeException(nameof(field), field, "Unknown system field.");
        }
    }

    // Protobuf-backed records use "" for "not set" (e.g. no parent), so empty counts as absent.
    private static bool TryString(string? text, out QueryValue value)
    {
        value = string.IsNullOrEmpty(text) ? default : QueryValue.FromString(text);
        return !string.IsNullOrEmpty(text);
    }
}
