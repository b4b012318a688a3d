using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.Auth;

/// <summary>
/// One server-to-server API key (configuration "Auth:ApiKeys:{n}"). Only the SHA-256 of the key is configured, so
/// the configuration (and anyone reading it) never holds a usable key.
/// </summary>
public sealed class ApiKeyEntry
{
    /// <summary>A name for the key, logged and put in the "api_key_id" claim (never the key itself).</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>SHA-256 of the key's UTF-8 bytes, 64 hex digits: <c>printf %s "$KEY" | sha256sum</c>.</summary>
    public string Hash { get; set; } = string.Empty;

    public string Tenant { get; set; } = string.Empty;

    public string Subject { get; set; } = string.Empty;

    /// <summary>Optional scopes, issued as "scope" claims for authorization policies that want them.</summary>
    public IList<string> Scopes { get; } = [];
}

/// <summary>The "ApiKey" authentication scheme: header <c>X-Api-Key</c>, producing the same tenant/subject claims as a JWT.</summary>
public static class ApiKeyDefaults
{
    public const string AuthenticationScheme = "ApiKey";

    public const string HeaderName = "X-Api-Key";

    public const string KeyIdClaim = "api_key_id";

    public const string ScopeClaim = "scope";

    /// <summary>The hash configured for a key: SHA-256 of its UTF-8 bytes, lower-case hex.</summary>
    public static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}

/// <summary>
/// The configured keys' hashes as bytes (read once, validated at start-up: changing keys takes a restart, like the
/// signing key). A lookup hashes the presented key and compares it with every configured hash in constant time, so
/// neither the comparison nor the position of a match tells an attacker anything.
/// </summary>
public sealed class ApiKeyStore(IOptions<GatewayAuthOptions> options)
{
    private readonly (byte[] Hash, ApiKeyEntry Entry)[] _keys =
        [.. options.Value.ApiKeys.Select(k => (Convert.FromHexString(k.Hash), k))];

    public ApiKeyEntry? Find(string presentedKey)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey), hash);
        ApiKeyEntry? match = null;
        foreach (var (configured, entry) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(configured, hash))
            {
                match = entry;
            }
        }
        return match;
    }
}

public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions;

/// <summary>No header: no result (JWT may still authenticate). A header with an unknown key: failure (401).</summary>
internal sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<ApiKeyAuthenticationOptions> options, ILoggerFactory logger,
    UrlEncoder encoder, ApiKeyStore keys) : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ApiKeyDefaults.HeaderName, out var values))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (values.Count != 1 || string.IsNullOrEmpty(values[0]) || keys.Find(values[0]!) is not { } entry)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }
        List<Claim> claims =
        [
            new(TenantIds.SubjectClaim, entry.Subject),
            new(TenantIds.TenantClaim, entry.Tenant),
            new(ApiKeyDefaults.KeyIdClaim, entry.Id),
        ];
        foreach (var scope in entry.Scopes)
        {
            claims.Add(new Claim(ApiKeyDefaults.ScopeClaim, scope));
        }
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name, TenantIds.SubjectClaim, null));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.Append("WWW-Authenticate", ApiKeyDefaults.AuthenticationScheme);
        return Task.CompletedTask;
    }
}
