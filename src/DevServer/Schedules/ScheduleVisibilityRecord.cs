using AgentOrchestrator.DevServer.Visibility;
using Google.Protobuf;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;

namespace AgentOrchestrator.DevServer.Schedules;

/// <summary>
/// A schedule as the <c>query</c> of ListSchedules sees it: Temporal lists schedules through their scheduler workflows'
/// visibility, so a query names the schedule's own search attributes, <c>ScheduleId</c> and <c>TemporalSchedulePaused</c>
/// (and the scheduler workflow's fields: id, type, running since creation). Taken under the schedule's lock.
/// </summary>
internal sealed class ScheduleVisibilityRecord : IVisibilityRecord
{
    /// <summary>The workflow type and id prefix of Temporal's scheduler workflows, which visibility shows for schedules.</summary>
    public const string SchedulerWorkflowType = "temporal-sys-scheduler-workflow";
    public const string SchedulerWorkflowIdPrefix = "temporal-sys-scheduler:";

    private readonly Dictionary<string, Payload> _searchAttributes = new(StringComparer.Ordinal);

    public ScheduleVisibilityRecord(ScheduleEntry entry)
    {
        WorkflowId = SchedulerWorkflowIdPrefix + entry.ScheduleId;
        StartTime = ExecutionTime = entry.Info.CreateTime?.ToDateTime() ?? DateTime.UnixEpoch;
        foreach (var (name, value) in entry.SearchAttributes?.IndexedFields ?? [])
        {
            _searchAttributes[name] = value;
        }
        _searchAttributes["ScheduleId"] = Typed(Quoted(entry.ScheduleId), "Keyword");
        _searchAttributes["TemporalSchedulePaused"] = Typed(entry.Schedule.State.Paused ? "true" : "false", "Bool");
    }

    public string WorkflowId { get; }

    public string RunId => string.Empty;

    public string WorkflowType => SchedulerWorkflowType;

    public string TaskQueue => string.Empty;

    public WorkflowExecutionStatus Status => WorkflowExecutionStatus.Running;

    public DateTime StartTime { get; }

    public DateTime ExecutionTime { get; }

    public DateTime? CloseTime => null;

    public string? ParentWorkflowId => null;

    public string? ParentRunId => null;

    public long HistoryLength => 0;

    public IReadOnlyDictionary<string, Payload> SearchAttributes => _searchAttributes;

    private static string Quoted(string value) => "\"" + System.Text.Json.JsonEncodedText.Encode(value) + "\"";

    private static Payload Typed(string json, string type) => new()
    {
        Metadata = { ["encoding"] = ByteString.CopyFromUtf8("json/plain"), ["type"] = ByteString.CopyFromUtf8(type) },
        Data = ByteString.CopyFromUtf8(json),
    };
}
