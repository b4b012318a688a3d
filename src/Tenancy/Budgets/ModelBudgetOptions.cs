namespace AgentOrchestrator.Tenancy.Budgets;

/// <summary>
/// Configuration section "Tenancy:Budgets": how the shared model budget estimates, leases and degrades. The limits
/// themselves are the tenant policy's ModelTokensPerMinute, ModelCostPerHour and MaxConcurrentModelCalls.
/// </summary>
public sealed class ModelBudgetOptions
{
    public const string SectionName = "Tenancy:Budgets";

    /// <summary>
    /// Completion tokens reserved for a call before it runs (the prompt is estimated at 4 characters per token). The
    /// call settles with the usage the model reports, so this only decides how far a burst can overshoot before the
    /// correction lands.
    /// </summary>
    public int CompletionAllowance { get; set; } = 256;

    /// <summary>
    /// Share of each tenant's budget a worker process grants on its own while the shared store is unreachable. With
    /// N worker processes the tenant can consume up to N x share of its budget during an outage: 0.5 keeps a
    /// two-worker deployment within the budget and keeps model calls flowing; set 1/N for N workers to stay strict.
    /// </summary>
    public double DegradedShare { get; set; } = 0.5;

    /// <summary>How long a concurrency slot is held without renewal; a crashed worker's slots come back after this.</summary>
    public TimeSpan SlotLease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a call that found no free concurrency slot waits (plus jitter) before it tries again.</summary>
    public TimeSpan SlotRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a reservation survives once it is due, if its call never comes back for it (run canceled).</summary>
    public TimeSpan ReservationGrace { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>While degraded, how often a call tries the shared store again.</summary>
    public TimeSpan StoreProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Prefix of every Redis key the budget uses (keys are per tenant: "{prefix}:{tenant}:...").</summary>
    public string KeyPrefix { get; set; } = "ao:budget";
}

/// <summary>Price of one model ("Tenancy:Prices:&lt;model&gt;:PromptPer1K" / "CompletionPer1K"), in the budget's currency.</summary>
public sealed class ModelPrice
{
    public decimal PromptPer1K { get; set; }

    public decimal CompletionPer1K { get; set; }

    public decimal CostOf(long promptTokens, long completionTokens) =>
        (PromptPer1K * promptTokens + CompletionPer1K * completionTokens) / 1000m;
}

/// <summary>Configuration section "Tenancy:Prices": model name to price. A model missing here costs 0 (logged once).</summary>
public sealed class ModelPriceOptions
{
    public const string SectionName = "Tenancy:Prices";

    public Dictionary<string, ModelPrice> Models { get; } = new(StringComparer.OrdinalIgnoreCase);
}
