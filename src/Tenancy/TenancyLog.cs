using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Tenancy;

internal static partial class TenancyLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant policy: the changed configuration is invalid and was ignored (the previous one stays in force): {Failures}")]
    public static partial void InvalidReload(ILogger logger, string failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant policy: configuration reloaded ({PlanCount} plans, {TenantCount} tenant entries)")]
    public static partial void Reloaded(ILogger logger, int planCount, int tenantCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant policy: runtime overrides in the {Store} store")]
    public static partial void StoreChoice(ILogger logger, TenancyStore store);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant policy: Tenancy:Store is {Store} in a process that is not the embedded host: " +
        "policy changes made through the admin API reach this process only. Use Tenancy:Store=Redis when several processes serve tenants.")]
    public static partial void LocalStoreOutsideEmbeddedHost(ILogger logger, TenancyStore store);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant policy store unreachable: keeping the {OverrideCount} runtime overrides last read until it is back")]
    public static partial void StoreUnreachable(ILogger logger, int overrideCount, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant policy store reachable again: {OverrideCount} runtime overrides read")]
    public static partial void StoreRecovered(ILogger logger, int overrideCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant policy: the stored override of tenant {TenantId} is not a valid policy and is ignored: {Error}")]
    public static partial void UnreadableOverride(ILogger logger, string tenantId, string error);
}
