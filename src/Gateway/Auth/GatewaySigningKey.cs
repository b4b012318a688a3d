using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AgentOrchestrator.Gateway.Auth;

/// <summary>
/// The symmetric key tokens are signed and validated with: the configured one, or (dev tokens enabled, nothing
/// configured) a random key made once per process. A generated key means tokens from one gateway process are not
/// accepted by another, which is fine for the embedded host and wrong for anything else.
/// </summary>
public sealed class GatewaySigningKey
{
    public GatewaySigningKey(IOptions<GatewayAuthOptions> options, IHostEnvironment environment)
    {
        var auth = options.Value;
        DevTokensEnabled = auth.DevTokens ?? environment.IsDevelopment();
        if (!string.IsNullOrEmpty(auth.SigningKey))
        {
            Key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(auth.SigningKey));
        }
        else if (auth.Authority is null && DevTokensEnabled)
        {
            Key = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
            IsGenerated = true;
        }
    }

    /// <summary>Null when tokens come from an authority only.</summary>
    public SymmetricSecurityKey? Key { get; }

    public bool IsGenerated { get; }

    public bool DevTokensEnabled { get; }
}

internal sealed class GatewayAuthOptionsValidator(IHostEnvironment environment) : IValidateOptions<GatewayAuthOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayAuthOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrEmpty(options.SigningKey) && Encoding.UTF8.GetByteCount(options.SigningKey) < 32)
        {
            failures.Add("Auth:SigningKey must be at least 32 bytes (HMAC-SHA256).");
        }
        var devTokens = options.DevTokens ?? environment.IsDevelopment();
        if (string.IsNullOrEmpty(options.SigningKey) && options.Authority is null && !devTokens)
        {
            failures.Add("Configure Auth:SigningKey or Auth:Authority (a generated key is only used when dev tokens are enabled).");
        }
        if (options.DevTokenLifetime <= TimeSpan.Zero)
        {
            failures.Add("Auth:DevTokenLifetime must be positive.");
        }
        if (string.IsNullOrWhiteSpace(options.Issuer) || string.IsNullOrWhiteSpace(options.Audience))
        {
            failures.Add("Auth:Issuer and Auth:Audience must not be empty.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
