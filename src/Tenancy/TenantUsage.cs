namespace AgentOrchestrator.Tenancy;

/// <summary>
/// One tenant's current usage, filled in by every <see cref="ITenantUsageContributor"/> (gateway: connections and
/// runs; workers' budget: tokens, cost, model calls, waits) for the admin usage endpoint. Null: not measured here.
/// </summary>
public sealed class TenantUsageReport
{
    public required string Tenant { get; init; }

    public int? Connections { get; set; }

    public int? RunsRunning { get; set; }

    public long? ModelTokensLastMinute { get; set; }

    public decimal? ModelCostLastHour { get; set; }

    public int? ModelCallsInFlight { get; set; }

    public long? BudgetWaits { get; set; }

    public long? Rejections { get; set; }
}

/// <summary>Adds what one part of the system knows about a tenant's usage to the report.</summary>
public interface ITenantUsageContributor
{
    ValueTask ContributeAsync(TenantUsageReport report, CancellationToken cancellationToken);
}
