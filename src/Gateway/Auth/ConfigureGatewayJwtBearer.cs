using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.Auth;

/// <summary>JWT bearer validation from <see cref="GatewayAuthOptions"/>; tokens without a valid tenant claim are rejected (401).</summary>
internal sealed class ConfigureGatewayJwtBearer(IOptions<GatewayAuthOptions> options, GatewaySigningKey signingKey)
    : IConfigureNamedOptions<JwtBearerOptions>
{
    public const string HubPath = "/hubs/runs";

    /// <summary>The plain WebSocket subscriber endpoint (WebSockets/RunWebSocketEndpoint).</summary>
    public const string WebSocketPath = "/v1/ws";

    public void Configure(string? name, JwtBearerOptions bearer)
    {
        if (name != JwtBearerDefaults.AuthenticationScheme)
        {
            return;
        }
        var auth = options.Value;
        bearer.MapInboundClaims = false;
        // Nothing reads the raw token after validation; saved, every open connection would keep a copy of it.
        bearer.SaveToken = false;
        bearer.TokenValidationParameters.NameClaimType = TenantIds.SubjectClaim;
        bearer.TokenValidationParameters.ValidAudience = auth.Audience;
        bearer.TokenValidationParameters.ClockSkew = TimeSpan.FromSeconds(30);
        if (auth.Authority is not null)
        {
            bearer.Authority = auth.Authority.ToString();
            bearer.Audience = auth.Audience;
        }
        if (signingKey.Key is not null)
        {
            bearer.TokenValidationParameters.ValidIssuer = auth.Issuer;
            bearer.TokenValidationParameters.IssuerSigningKey = signingKey.Key;
        }
        bearer.Events = new JwtBearerEvents
        {
            // Browsers cannot set headers on WebSocket/SSE requests: SignalR (and our WebSocket clients) send the token as access_token.
            OnMessageReceived = context =>
            {
                var path = context.HttpContext.Request.Path;
                if ((path.StartsWithSegments(HubPath) || path.StartsWithSegments(WebSocketPath))
                    && context.Request.Query["access_token"].ToString() is { Length: > 0 } token)
                {
                    context.Token = token;
                }
                return Task.CompletedTask;
            },
            OnTokenValidated = context =>
            {
                if (!TenantIds.IsValid(context.Principal?.FindFirst(TenantIds.TenantClaim)?.Value))
                {
                    context.Fail("The token has no valid 'tenant' claim.");
                }
                else
                {
                    // Hub and SSE connections keep the request's principal while they are open: keep it small.
                    context.Principal = GatewayPrincipal.From(context.Principal!);
                }
                return Task.CompletedTask;
            },
        };
    }

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);
}
