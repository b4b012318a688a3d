using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentOrchestrator.Gateway.Auth;

/// <summary>
/// Signs development tokens with the gateway's own key (POST /v1/dev/tokens). Any scope can be requested, "admin"
/// included: dev tokens exist only in Development or in the embedded host.
/// </summary>
public sealed class DevTokenIssuer(GatewaySigningKey signingKey, IOptions<GatewayAuthOptions> options, TimeProvider time)
{
    public string Issue(string tenant, string subject, IReadOnlyCollection<string>? scopes = null)
    {
        var key = signingKey.Key ?? throw new InvalidOperationException("Dev tokens need a signing key (Auth:SigningKey).");
        var auth = options.Value;
        var now = time.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = auth.Issuer,
            Audience = auth.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + auth.DevTokenLifetime,
            Subject = new ClaimsIdentity(ClaimsOf(tenant, subject, scopes)),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
    }

    private static List<Claim> ClaimsOf(string tenant, string subject, IReadOnlyCollection<string>? scopes)
    {
        List<Claim> claims = [new(TenantIds.SubjectClaim, subject), new(TenantIds.TenantClaim, tenant)];
        if (scopes is { Count: > 0 })
        {
            // OAuth 2.0 form: one space-separated "scope" claim.
            claims.Add(new Claim(ApiKeyDefaults.ScopeClaim, string.Join(' ', scopes)));
        }
        return claims;
    }
}
