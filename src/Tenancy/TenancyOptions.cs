namespace AgentOrchestrator.Tenancy;

/// <summary>Where runtime policy overrides and shared budget state live.</summary>
public enum TenancyStore
{
    /// <summary>In this process only: right for the embedded host, where every part shares one process.</summary>
    InMemory,

    /// <summary>Redis, shared by every gateway and worker process ("Tenancy:Redis").</summary>
    Redis,

    /// <summary>
    /// A JSON file of this process ("Tenancy:FilePath"): overrides survive a restart (the embedded host's data directory);
    /// budgets stay in process.
    /// </summary>
    File,
}

/// <summary>
/// Configuration section "Tenancy": the configured plans (reloadable) and the shared store. Runtime overrides set
/// through the admin API sit on top of these and live in the store.
/// </summary>
public sealed class TenancyOptions
{
    public const string SectionName = "Tenancy";

    /// <summary>Limits of every tenant, for every field a more specific layer leaves unset.</summary>
    public TenantPolicy Default { get; set; } = new();

    /// <summary>Named plans ("Tenancy:Plans:pro:ModelTokensPerMinute"), chosen by a tenant's <see cref="TenantPolicy.Plan"/>.</summary>
    public Dictionary<string, TenantPolicy> Plans { get; } = new(StringComparer.Ordinal);

    /// <summary>Per-tenant configuration ("Tenancy:Tenants:acme:Plan", "Tenancy:Tenants:acme:MaxConnections").</summary>
    public Dictionary<string, TenantPolicy> Tenants { get; } = new(StringComparer.Ordinal);

    /// <summary>InMemory (default), Redis or File. Logged at start-up.</summary>
    public TenancyStore Store { get; set; } = TenancyStore.InMemory;

    /// <summary>StackExchange.Redis configuration string, e.g. "127.0.0.1:6379". Required when Store is Redis.</summary>
    public string? Redis { get; set; }

    /// <summary>The overrides file. Required when Store is File.</summary>
    public string? FilePath { get; set; }

    /// <summary>How often a process re-reads runtime overrides from the store, as a backstop to change notifications.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);
}
