using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>
/// The run-event log's Redis connection, opened when the host starts (so appends never wait for it, and keep their
/// order). Start-up does not fail while Redis is down: the multiplexer keeps reconnecting and calls fail meanwhile
/// (a worker's step then fails and Temporal retries it; a gateway's read fails the subscription with a typed error).
/// </summary>
internal sealed class RunEventLogRedis(IOptions<RunEventLogOptions> options) : IHostedService, IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection = new(() => ConnectAsync(options.Value));
    private IDatabase? _database;

    /// <summary>The database; waits for the connection only if the host has not started it yet.</summary>
    public IDatabase Database => _database ??= _connection.Value.GetAwaiter().GetResult().GetDatabase();

    public async Task<bool> PingAsync()
    {
        var connection = await _connection.Value.ConfigureAwait(false);
        if (!connection.IsConnected)
        {
            return false;
        }
        await connection.GetDatabase().PingAsync().ConfigureAwait(false);
        return true;
    }

    public async Task StartAsync(CancellationToken cancellationToken) =>
        _database = (await _connection.Value.WaitAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static Task<ConnectionMultiplexer> ConnectAsync(RunEventLogOptions options)
    {
        var configuration = ConfigurationOptions.Parse(options.Redis
            ?? throw new InvalidOperationException("RunEvents:Log:Redis is required when RunEvents:Log:Store is Redis."));
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = 5000;
        configuration.AsyncTimeout = 5000;
        configuration.SyncTimeout = 5000;
        configuration.ClientName = "agent-orchestrator-run-log";
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
