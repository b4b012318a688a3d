using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.RunStreaming.Ordering;

internal static partial class OrderingLog
{
    [LoggerMessage(Level = LogLevel.Trace, Message = "Dropped duplicate event {EventId}")]
    public static partial void DuplicateEvent(ILogger logger, string eventId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Evicted the event tail of run {RunId} (tenant {TenantId}): {Reason}")]
    public static partial void RunEvicted(ILogger logger, string tenantId, string runId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped event {EventId} of superseded attempt {Attempt} of step {StepId} (run {RunId})")]
    public static partial void SupersededEventDropped(ILogger logger, string runId, string stepId, int attempt, string eventId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped event {EventId} that arrived after run {RunId} ended")]
    public static partial void EventAfterEndDropped(ILogger logger, string runId, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Released {Count} held events of run {RunId} (tenant {TenantId}) without the earlier ones they waited for ({Reason}): taken as lost")]
    public static partial void HeldEventsForced(ILogger logger, string tenantId, string runId, int count, string reason);
}
