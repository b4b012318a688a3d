namespace AgentOrchestrator.Tenancy;

/// <summary>
/// The policy in force for a tenant, as every part of the system reads it (gateway quotas, dispatch priority, worker
/// budgets). Answers from memory: configuration plus the runtime overrides last read from the store.
/// </summary>
public interface ITenantPolicyProvider
{
    EffectiveTenantPolicy PolicyOf(string tenant);
}

/// <summary>
/// Runtime overrides set through the admin API; shared by every process when the store is shared. An unreachable store
/// throws <see cref="TenantPolicyStoreUnavailableException"/>.
/// </summary>
public interface ITenantPolicyStore
{
    Task<IReadOnlyDictionary<string, TenantPolicy>> GetAllAsync(CancellationToken cancellationToken);

    Task SetAsync(string tenant, TenantPolicy policy, CancellationToken cancellationToken);

    /// <summary>Removes the tenant's override (configuration applies again). False when there was none.</summary>
    Task<bool> RemoveAsync(string tenant, CancellationToken cancellationToken);
}

/// <summary>A store that tells every process of a change as it happens (the periodic refresh is then only a backstop).</summary>
public interface ITenantPolicyChangeNotifications
{
    /// <summary>Calls <paramref name="changed"/> after any process changed an override; throws when the store is unreachable.</summary>
    Task SubscribeAsync(Action changed, CancellationToken cancellationToken);
}

/// <summary>The override store cannot be reached: nothing was read or changed.</summary>
public sealed class TenantPolicyStoreUnavailableException(string message, Exception? innerException) : Exception(message, innerException)
{
    public TenantPolicyStoreUnavailableException()
        : this("The tenant policy store is unreachable.", null)
    {
    }

    public TenantPolicyStoreUnavailableException(string message)
        : this(message, null)
    {
    }
}
