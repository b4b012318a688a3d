using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Gateway.Quotas;

internal static partial class QuotaLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "Quotas: the changed configuration is invalid and was ignored (the previous limits stay in force): {Failures}")]
    public static partial void InvalidReload(ILogger logger, string failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "Quotas: configuration reloaded")]
    public static partial void Reloaded(ILogger logger);

    // Debug: during a reconnect storm there can be thousands per second; the counter gateway.quota.rejections counts them all.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused a request of tenant {TenantId}: {Code} {Detail}")]
    public static partial void Rejected(ILogger logger, string tenantId, string code, string detail);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tenant {TenantId} has {Running} running runs (Temporal visibility)")]
    public static partial void RunningCounted(ILogger logger, string tenantId, long running);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not count the running runs of tenant {TenantId} (start not limited this time): {Error}")]
    public static partial void CountFailed(ILogger logger, string tenantId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not count the running runs of tenant {TenantId} for its usage report: {Error}")]
    public static partial void UsageCountFailed(ILogger logger, string tenantId, string error);
}
