using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.RunStreaming.Subscriptions;

internal static partial class SubscriptionLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Cursor {Cursor} of run {RunId} is not in this gateway's tail: stream.reset and the whole transcript from {Source}")]
    public static partial void CursorReset(ILogger logger, string runId, string cursor, string source);
}
