using System.Text.Json;

namespace AgentOrchestrator.Tenancy;

/// <summary>
/// Runtime overrides in one JSON file (Tenancy:Store = File, Tenancy:FilePath), for a single process that must keep
/// them across restarts: the embedded host's data directory. Each change rewrites the file through a temporary file
/// and a rename, so a crash leaves either the old or the new overrides, never a torn file.
/// </summary>
public sealed class FileTenantPolicyStore : ITenantPolicyStore, IDisposable
{
    private readonly SemaphoreSlim _writes = new(1, 1);
    private Dictionary<string, TenantPolicy> _policies;

    /// <summary>Reads the file (none yet: no overrides); an unreadable one stops the start rather than lose its overrides.</summary>
    public FileTenantPolicyStore(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        _policies = Load(Path);
    }

    public string Path { get; }

    public Task<IReadOnlyDictionary<string, TenantPolicy>> GetAllAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, TenantPolicy>>(Volatile.Read(ref _policies));

    public Task SetAsync(string tenant, TenantPolicy policy, CancellationToken cancellationToken) =>
        ChangeAsync(policies =>
        {
            policies[tenant] = policy;
            return true;
        }, cancellationToken);

    public Task<bool> RemoveAsync(string tenant, CancellationToken cancellationToken) =>
        ChangeAsync(policies => policies.Remove(tenant), cancellationToken);

    private async Task<bool> ChangeAsync(Func<Dictionary<string, TenantPolicy>, bool> change, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var next = new Dictionary<string, TenantPolicy>(_policies, StringComparer.Ordinal);
            if (!change(next))
            {
                return false;
            }
            await WriteAsync(next, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _policies, next);
            return true;
        }
        finally
        {
            _writes.Release();
        }
    }

    private async Task WriteAsync(Dictionary<string, TenantPolicy> policies, CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(directory);
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
            {
                await JsonSerializer.SerializeAsync(file, policies, TenancyJsonContext.Default.DictionaryStringTenantPolicy, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, Path, overwrite: true);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            throw new TenantPolicyStoreUnavailableException($"The tenant policy overrides file {Path} could not be written: {error.Message}", error);
        }
    }

    private static Dictionary<string, TenantPolicy> Load(string path)
    {
        if (!File.Exists(path))
        {
            return new Dictionary<string, TenantPolicy>(StringComparer.Ordinal);
        }
        try
        {
            using var file = File.OpenRead(path);
            var policies = JsonSerializer.Deserialize(file, TenancyJsonContext.Default.DictionaryStringTenantPolicy)
                ?? throw new JsonException("the file holds null");
            return new Dictionary<string, TenantPolicy>(policies, StringComparer.Ordinal);
        }
        catch (JsonException error)
        {
            throw new InvalidDataException(
                $"The tenant policy overrides file {path} is unreadable ({error.Message}). Fix or move it away; it was not changed.", error);
        }
    }

    public void Dispose() => _writes.Dispose();
}
