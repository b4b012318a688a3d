using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AgentOrchestrator.Gateway.Auth;

/// <summary>
/// The symmetric key tokens are signed and validated with: the configured one, or (dev tokens enabled, nothing
/// configured) a random key, kept in <see cref="GatewayAuthOptions.SigningKeyFile"/> when set (the embedded host: a
/// browser's token survives a restart) or else made once per process. A generated key means tokens from one gateway
/// process are not accepted by another, which is fine for the embedded host and wrong for anything else.
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
        else if (auth.Authority is null && DevTokensEnabled && !string.IsNullOrEmpty(auth.SigningKeyFile))
        {
            KeyFile = Path.GetFullPath(auth.SigningKeyFile);
            Key = new SymmetricSecurityKey(LoadOrCreate(KeyFile));
        }
        else if (auth.Authority is null && DevTokensEnabled)
        {
            Key = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
            IsGenerated = true;
        }
    }

    /// <summary>The file the generated key is kept in (null when it is configured or made per process).</summary>
    public string? KeyFile { get; }

    private static byte[] LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var key = RandomNumberGenerator.GetBytes(32);
            var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.WriteThrough };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var writer = new StreamWriter(temporary, Encoding.ASCII, create))
            {
                writer.WriteLine(Convert.ToBase64String(key));
            }
            // Two starts racing: the first rename wins and both read the file it left.
            if (!TryMove(temporary, path))
            {
                File.Delete(temporary);
            }
        }
        try
        {
            var key = Convert.FromBase64String(File.ReadAllText(path).Trim());
            return key.Length >= 32 ? key : throw new FormatException($"{key.Length} bytes, at least 32 needed");
        }
        catch (FormatException error)
        {
            throw new InvalidOperationException(
                $"The dev-token signing key file {path} is unreadable ({error.Message}). Delete it to make a new key (tokens issued before then stop working).", error);
        }
    }

    private static bool TryMove(string source, string destination)
    {
        try
        {
            File.Move(source, destination, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(destination))
        {
            return false;
        }
    }

    /// <summary>Null when tokens come from an authority only.</summary>
    public SymmetricSecurityKey? Key { get; }

    public bool IsGenerated { get; }

    public bool DevTokensEnabled { get; }
}

internal sealed class GatewayAuthOptionsValidator(IHostEnvironment environment, GatewayHostMode hostMode) : IValidateOptions<GatewayAuthOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayAuthOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrEmpty(options.SigningKey) && Encoding.UTF8.GetByteCount(options.SigningKey) < 32)
        {
            failures.Add("Auth:SigningKey must be at least 32 bytes (HMAC-SHA256).");
        }
        var devTokens = options.DevTokens ?? environment.IsDevelopment();
        if (options.DevTokens == true && !environment.IsDevelopment() && !hostMode.Embedded)
        {
            failures.Add($"Auth:DevTokens=true is refused in the '{environment.EnvironmentName}' environment: anyone could mint tokens " +
                "for any tenant. Dev tokens are for the Development environment or the embedded host only; remove the setting " +
                "and configure Auth:SigningKey, Auth:Authority or Auth:ApiKeys.");
        }
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
        ValidateApiKeys(options.ApiKeys, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public static bool IsValidHash(string? hash) => hash is { Length: 64 } && hash.All(char.IsAsciiHexDigit);

    private static void ValidateApiKeys(IList<ApiKeyEntry> keys, List<string> failures)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            var at = $"Auth:ApiKeys:{i}";
            if (string.IsNullOrWhiteSpace(key.Id) || !ids.Add(key.Id))
            {
                failures.Add($"{at}:Id is required and must be unique.");
            }
            if (!IsValidHash(key.Hash))
            {
                failures.Add($"{at}:Hash must be the SHA-256 of the key as 64 hex digits (printf %s \"$KEY\" | sha256sum), never the key itself.");
            }
            else if (!hashes.Add(key.Hash))
            {
                failures.Add($"{at}:Hash is configured twice.");
            }
            if (!TenantIds.IsValid(key.Tenant))
            {
                failures.Add($"{at}:Tenant is required: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
            }
            if (string.IsNullOrWhiteSpace(key.Subject) || key.Subject.Length > 256)
            {
                failures.Add($"{at}:Subject is required (at most 256 characters).");
            }
        }
    }
}
