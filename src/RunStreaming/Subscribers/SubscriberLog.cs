using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.RunStreaming.Subscribers;

internal static partial class SubscriberLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the subscriber digest of gateway {InstanceId}; retrying next interval")]
    public static partial void DigestPublishFailed(ILogger logger, Exception exception, string instanceId);
}
