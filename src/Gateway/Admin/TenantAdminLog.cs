using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Gateway.Admin;

internal static partial class TenantAdminLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant policy of {TenantId} {Operation} by {Actor}: {Diff}")]
    public static partial void PolicyChanged(ILogger logger, string tenantId, string operation, string actor, string diff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant policy change of {TenantId} by {Actor} failed: the policy store is unreachable ({Error})")]
    public static partial void StoreUnavailable(ILogger logger, string tenantId, string actor, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant policy of {TenantId} changed, but this gateway could not re-read the overrides yet (its refresher will): {Error}")]
    public static partial void RefreshAfterChangeFailed(ILogger logger, string tenantId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage report of tenant {TenantId}: {Contributor} failed, its figures are left out")]
    public static partial void ContributorFailed(ILogger logger, string tenantId, string contributor, Exception exception);
}
