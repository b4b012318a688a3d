using System.Collections.Concurrent;

namespace AgentOrchestrator.Tenancy;

/// <summary>Runtime overrides held by this process only (Tenancy:Store = InMemory, the embedded default).</summary>
public sealed class InMemoryTenantPolicyStore : ITenantPolicyStore
{
    private readonly ConcurrentDictionary<string, TenantPolicy> _policies = new(StringComparer.Ordinal);

    public Task<IReadOnlyDictionary<string, TenantPolicy>> GetAllAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, TenantPolicy>>(new Dictionary<string, TenantPolicy>(_policies, StringComparer.Ordinal));

    public Task SetAsync(string tenant, TenantPolicy policy, CancellationToken cancellationToken)
    {
        _policies[tenant] = policy;
        return Task.CompletedTask;
    }

    public Task<bool> RemoveAsync(string tenant, CancellationToken cancellationToken) =>
        Task.FromResult(_policies.TryRemove(tenant, out _));
}
