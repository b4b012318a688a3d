using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using AgentOrchestrator.Gateway.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentOrchestrator.Gateway.Tests.Auth;

/// <summary>
/// The gateway keeps only the subject, tenant and scope claims of a validated bearer token (an open connection keeps
/// its principal): what the gateway reads must survive, the rest and the parsed token must not.
/// </summary>
[Collection(GatewayTestGroup.Name)]
public sealed class GatewayPrincipalTests(GatewayFixture fixture)
{
    [Fact]
    public async Task From_ValidatedToken_KeepsSubjectTenantAndScopesOnly()
    {
        var token = Sign("acme", ("scope", "runs admin"), ("scp", "read"), ("email", "a@example.com"), ("jti", "id-1"));
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = "agent-orchestrator",
            ValidAudience = "agent-orchestrator",
            IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(GatewayTestHost.SigningKey)),
            NameClaimType = TenantIds.SubjectClaim,
        });
        Assert.True(validation.IsValid);
        var validated = new ClaimsPrincipal(validation.ClaimsIdentity);

        var slim = GatewayPrincipal.From(validated);

        Assert.Equal(["scope:runs admin", "scp:read", "sub:tester", "tenant:acme"],
            slim.Claims.Select(c => $"{c.Type}:{c.Value}").Order(StringComparer.Ordinal));
        Assert.Equal("tester", slim.Identity?.Name);
        Assert.True(slim.Identity?.IsAuthenticated);
        Assert.Equal(validated.Identity?.AuthenticationType, slim.Identity?.AuthenticationType);
        Assert.Equal("agent-orchestrator", slim.FindFirst(TenantIds.TenantClaim)?.Issuer);
        // The token handler's identity refers to the parsed token; the kept identity does not.
        Assert.IsType<ClaimsIdentity>(slim.Identity, exactMatch: true);
        Assert.Equal("acme", TenantIds.TenantOf(slim));
    }

    [Fact]
    public async Task AdminEndpoint_TokenWithScpAdminAndOtherClaims_IsAuthorized()
    {
        var tenant = GatewayFixture.NewTenant();
        using var withScp = Client(Sign(tenant, ("scp", "admin"), ("email", "ops@example.com"), ("jti", Guid.NewGuid().ToString())));
        using var withoutScope = Client(Sign(tenant, ("email", "ops@example.com")));

        using var allowed = await withScp.GetAsync(new Uri("v1/admin/tenants", UriKind.Relative));
        using var forbidden = await withoutScope.GetAsync(new Uri("v1/admin/tenants", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    private HttpClient Client(string token)
    {
        var http = new HttpClient { BaseAddress = fixture.Host.Address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static string Sign(string tenant, params (string Type, string Value)[] extra)
    {
        var now = DateTime.UtcNow;
        List<Claim> claims = [new(TenantIds.SubjectClaim, "tester"), new(TenantIds.TenantClaim, tenant)];
        claims.AddRange(extra.Select(c => new Claim(c.Type, c.Value)));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "agent-orchestrator",
            Audience = "agent-orchestrator",
            IssuedAt = now.AddMinutes(-1),
            NotBefore = now.AddMinutes(-1),
            Expires = now.AddHours(1),
            Subject = new ClaimsIdentity(claims),
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(GatewayTestHost.SigningKey)), SecurityAlgorithms.HmacSha256),
        });
    }
}
