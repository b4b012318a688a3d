using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Gateway.WebSockets;

internal static partial class RunWebSocketLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "WebSocket subscriber connection of tenant {TenantId} opened")]
    public static partial void Connected(ILogger logger, string tenantId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "WebSocket message of tenant {TenantId} refused ({Code}): {Reason}")]
    public static partial void InvalidMessage(ILogger logger, string tenantId, string code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "WebSocket connection of tenant {TenantId} closed (1008) after {Count} refused messages")]
    public static partial void ClosedForInvalidMessages(ILogger logger, string tenantId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WebSocket subscribe to run {RunId} failed: answered unavailable")]
    public static partial void SubscribeFailed(ILogger logger, Exception exception, string runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WebSocket stream of run {RunId} failed: answered unavailable")]
    public static partial void StreamFailed(ILogger logger, Exception exception, string runId);
}
