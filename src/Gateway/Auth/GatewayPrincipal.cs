using System.Security.Claims;

namespace AgentOrchestrator.Gateway.Auth;

/// <summary>
/// The principal the gateway keeps once a bearer token is validated. A hub or SSE connection keeps its request's
/// principal for the connection's lifetime, and the principal the token handler builds holds every claim (each
/// with its own property bag) and, through its identity, the parsed token itself. The gateway reads only the
/// subject, the tenant and the scopes (<see cref="TenantIds"/>, admin authorization), so only those are kept.
/// </summary>
public static class GatewayPrincipal
{
    /// <summary>"scp": the scope claim some identity providers issue instead of "scope" (admin authorization reads both).</summary>
    public const string ScpClaim = "scp";

    /// <summary>A principal with only the subject, tenant, "scope" and "scp" claims of <paramref name="validated"/>.</summary>
    public static ClaimsPrincipal From(ClaimsPrincipal validated)
    {
        ArgumentNullException.ThrowIfNull(validated);
        List<Claim> kept = [];
        foreach (var claim in validated.Claims)
        {
            if (claim.Type is TenantIds.SubjectClaim or TenantIds.TenantClaim or ApiKeyDefaults.ScopeClaim or ScpClaim)
            {
                kept.Add(new Claim(claim.Type, claim.Value, claim.ValueType, claim.Issuer, claim.OriginalIssuer));
            }
        }
        var authenticationType = validated.Identity?.AuthenticationType ?? "Bearer";
        return new ClaimsPrincipal(new ClaimsIdentity(kept, authenticationType, TenantIds.SubjectClaim, roleType: null));
    }
}
