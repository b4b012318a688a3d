using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AgentOrchestrator.Tenancy;

/// <summary>
/// The one Redis connection of a process (Tenancy:Store = Redis). Connects lazily and never fails start-up: with
/// AbortOnConnectFail off the multiplexer keeps reconnecting in the background, and callers see a RedisException
/// (or a timeout) while Redis is unreachable, which each caller turns into its documented degraded behaviour.
/// </summary>
public sealed class TenancyRedis(IOptions<TenancyOptions> options) : IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection = new(() => ConnectAsync(options.Value));

    /// <summary>What a call through this connection throws while Redis is unreachable (each caller then degrades).</summary>
    public static bool IsUnavailable(Exception e) => e is RedisException or TimeoutException;

    public async Task<IDatabase> GetDatabaseAsync() => (await _connection.Value.ConfigureAwait(false)).GetDatabase();

    public async Task<ISubscriber> GetSubscriberAsync() => (await _connection.Value.ConfigureAwait(false)).GetSubscriber();

    private static Task<ConnectionMultiplexer> ConnectAsync(TenancyOptions options)
    {
        var configuration = ConfigurationOptions.Parse(options.Redis
            ?? throw new InvalidOperationException("Tenancy:Redis is required when Tenancy:Store is Redis."));
        configuration.AbortOnConnectFail = false;
        // Short: a budget check waits on this before a model call, and an unreachable Redis must degrade quickly.
        configuration.ConnectTimeout = 2000;
        configuration.SyncTimeout = 1000;
        configuration.AsyncTimeout = 1000;
        return ConnectionMultiplexer.ConnectAsync(configuration);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated)
        {
            var connection = await _connection.Value.ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
