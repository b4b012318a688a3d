namespace AgentOrchestrator.Gateway.Auth;

/// <summary>Bearer-token validation and development tokens (configuration section "Auth").</summary>
public sealed class GatewayAuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>
    /// Whether POST /v1/dev/tokens is mapped. Null (not configured) means: only in the Development environment.
    /// True outside Development is refused at start-up unless the host declared embedded mode
    /// (<see cref="RunGatewayBuilder.UseEmbeddedMode"/>).
    /// </summary>
    public bool? DevTokens { get; set; }

    /// <summary>
    /// Symmetric HMAC-SHA256 key (UTF-8, at least 32 bytes) that signs and validates tokens. When neither this nor
    /// <see cref="Authority"/> is set and dev tokens are enabled, a random per-process key is generated (dev only).
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>
    /// With dev tokens and no <see cref="SigningKey"/>: keep the generated key in this file (made on first start,
    /// readable by the owner only) so issued tokens stay valid across restarts. The embedded host puts it in its data
    /// directory.
    /// </summary>
    public string? SigningKeyFile { get; set; }

    public string Issuer { get; set; } = "agent-orchestrator";

    public string Audience { get; set; } = "agent-orchestrator";

    /// <summary>An OpenID Connect authority (a real identity provider); its metadata supplies issuer and keys.</summary>
    public Uri? Authority { get; set; }

    /// <summary>Lifetime of tokens from POST /v1/dev/tokens.</summary>
    public TimeSpan DevTokenLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Server-to-server keys accepted in the X-Api-Key header ("Auth:ApiKeys:0", ...); hashes only.</summary>
    public IList<ApiKeyEntry> ApiKeys { get; } = [];
}
