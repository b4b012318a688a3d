using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentOrchestrator.Gateway.Auth;

/// <summary>Signs development tokens with the gateway's own key (POST /v1/dev/tokens).</summary>
public sealed class DevTokenIssuer(GatewaySigningKey signingKey, IOptions<GatewayAuthOptions> options, TimeProvider time)
{
    public string Issue(string tenant, string subject)
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
            Subject = new ClaimsIdentity([new Claim(TenantIds.SubjectClaim, subject), new Claim(TenantIds.TenantClaim, tenant)]),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
    }
}
