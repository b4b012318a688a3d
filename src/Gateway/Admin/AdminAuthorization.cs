using System.Security.Claims;
using AgentOrchestrator.Gateway.Auth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;

namespace AgentOrchestrator.Gateway.Admin;

/// <summary>
/// The "admin" scope: a JWT "scope" (space-separated, OAuth 2.0) or "scp" claim naming it, or an API key whose Scopes
/// include it. Dev tokens carry it when requested (POST /v1/dev/tokens {"scopes": ["admin"]}), which exists only in
/// Development or in the embedded host.
/// </summary>
public static class AdminAuthorization
{
    public const string PolicyName = "TenantAdmin";
    public const string Scope = "admin";

    public static bool HasAdminScope(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        foreach (var claim in user.Claims)
        {
            if ((claim.Type == ApiKeyDefaults.ScopeClaim || claim.Type == GatewayPrincipal.ScpClaim)
                && claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(Scope, StringComparer.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    internal static AuthorizationBuilder AddAdminPolicy(this AuthorizationBuilder authorization) =>
        authorization.AddPolicy(PolicyName, policy => policy
            .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme, ApiKeyDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser()
            .RequireAssertion(context => HasAdminScope(context.User)));
}
