namespace AgentOrchestrator.Tenancy;

/// <summary>
/// The policy in force for a tenant, as every part of the system reads it (gateway quotas, dispatch priority, worker
/// budgets). Answers from memory: configuration plus the runtime overrides last read from the store.
/// </summary>
public interface ITenantPolicyProvider
{
    EffectiveTenantPolicy PolicyOf(string tenant);
}

/// <summary>Runtime overrides set through the admin API; shared by every process when the store is shared.</summary>
public interface ITenantPolicyStore
{
    Task<IReadOnlyDictionary<string, TenantPolicy>> GetAllAsync(CancellationToken cancellationToken);

    Task SetAsync(string tenant, TenantPolicy policy, CancellationToken cancellationToken);

    /// <summary>Removes the tenant's override (configuration applies again). False when there was none.</summary>
    Task<bool> RemoveAsync(string tenant, CancellationToken cancellationToken);
}
