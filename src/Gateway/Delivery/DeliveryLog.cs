using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Gateway.Delivery;

internal static partial class DeliveryLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped event {EventId} of superseded attempt {Attempt} of step {StepId} (run {RunId})")]
    public static partial void SupersededEventDropped(ILogger logger, string runId, string stepId, int attempt, string eventId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped event {EventId} that arrived after run {RunId} ended")]
    public static partial void EventAfterEndDropped(ILogger logger, string runId, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Released {Count} held events of run {RunId} (tenant {TenantId}) without the earlier ones they waited for ({Reason}): taken as lost")]
    public static partial void HeldEventsForced(ILogger logger, string tenantId, string runId, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscriber {SubscriptionId} of run {RunId} (tenant {TenantId}) passed the outbound hard limit; its subscription is ended with slow_consumer")]
    public static partial void SlowConsumer(ILogger logger, string tenantId, string runId, string subscriptionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cursor {Cursor} of run {RunId} is not in this gateway's tail: stream.reset and the whole transcript from {Source}")]
    public static partial void CursorReset(ILogger logger, string runId, string cursor, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the subscriber digest of gateway {InstanceId}; retrying next interval")]
    public static partial void DigestPublishFailed(ILogger logger, Exception exception, string instanceId);
}
