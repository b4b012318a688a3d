using System.Security.Claims;
using AgentOrchestrator.Tenancy;

namespace AgentOrchestrator.Gateway.Auth;

/// <summary>
/// Tenant and run ids become parts of workflow ids ("tenant/{tenant}/run/{run}"), so both are restricted to a
/// character set without '/': no tenant or run id can be crafted to reach another tenant's workflow.
/// </summary>
public static class TenantIds
{
    public const string TenantClaim = "tenant";
    public const string SubjectClaim = "sub";

    /// <summary>The one id format, shared with tenant policy validation (AgentOrchestrator.Tenancy).</summary>
    public static bool IsValid(string? id) => TenantPolicyValidation.IsValidTenantId(id);

    /// <summary>The caller's tenant; the auth policy guarantees an authenticated caller has a valid one.</summary>
    public static string TenantOf(ClaimsPrincipal? user) =>
        user?.FindFirst(TenantClaim)?.Value is { } tenant && IsValid(tenant)
            ? tenant
            : throw new InvalidOperationException("The caller has no valid tenant claim.");

    public static string? SubjectOf(ClaimsPrincipal? user) => user?.FindFirst(SubjectClaim)?.Value;
}
