using System.Text.Json;
using System.Text.Json.Serialization;
using AgentOrchestrator.Tenancy;

namespace AgentOrchestrator.Gateway.Admin;

/// <summary>GET/PUT /v1/admin/tenants/{tenantId}/policy: the runtime override (null: none) and the policy in force on this gateway.</summary>
public sealed record TenantPolicyResponse(string Tenant, TenantPolicy? Override, EffectiveTenantPolicy Effective);

/// <summary>One tenant of GET /v1/admin/tenants: configured (Tenancy:Tenants) and/or overridden at runtime.</summary>
public sealed record TenantSummary(string Tenant, string? Plan, bool Configured, bool Overridden);

public sealed record TenantListResponse(IReadOnlyList<TenantSummary> Tenants);

/// <summary>
/// A usage figure next to the limit it counts against. Null: not measured by any part registered in this process, or
/// unlimited. Scope says where it is counted: "node" (this gateway process) or "cluster" (shared by every process).
/// </summary>
public sealed record UsageFigure(decimal? Used, decimal? Limit, string Scope);

public sealed record TenantUsageFigures(
    UsageFigure Connections,
    UsageFigure RunsRunning,
    UsageFigure ModelTokensLastMinute,
    UsageFigure ModelCostLastHour,
    UsageFigure ModelCallsInFlight,
    UsageFigure BudgetWaits,
    UsageFigure Rejections);

/// <summary>GET /v1/admin/tenants/{tenantId}/usage.</summary>
public sealed record TenantUsageResponse(string Tenant, string? Plan, TenantUsageFigures Usage, EffectiveTenantPolicy Effective);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(TenantPolicyResponse))]
[JsonSerializable(typeof(TenantListResponse))]
[JsonSerializable(typeof(TenantUsageResponse))]
internal sealed partial class TenantAdminJsonContext : JsonSerializerContext;

/// <summary>PUT bodies are strict: an unknown field (a typo such as "maxConcurentRuns") is an invalid policy, not ignored.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(TenantPolicy))]
internal sealed partial class TenantAdminRequestJsonContext : JsonSerializerContext;
