using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Client;

/// <summary>
/// The one connection a run-event channel shares between its streams: handed out while it is open, otherwise replaced
/// under a gate through <see cref="ConnectBackoff"/> (the dead one disposed first), and disposed once with the channel.
/// </summary>
internal sealed class SharedConnection<TConnection>(
    object owner,
    Uri address,
    ReconnectPolicy reconnect,
    ILogger logger,
    Func<TConnection, bool> isOpen,
    Func<CancellationToken, Task<ConnectBackoff.Attempt<TConnection>>> connectOnce) : IAsyncDisposable
    where TConnection : class, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private TConnection? _current;
    private bool _disposed;

    /// <summary>The connection if it is open right now, without waiting or connecting (acks only go on a live one).</summary>
    public TConnection? OpenOrNull => Volatile.Read(ref _current) is { } current && isOpen(current) ? current : null;

    public async Task<TConnection> GetAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, owner);
            if (_current is { } current && isOpen(current))
            {
                return current;
            }
            return await ConnectBackoff.ConnectAsync(address, reconnect, logger, async ct =>
            {
                if (_current is not null)
                {
                    await _current.DisposeAsync();
                    Volatile.Write(ref _current, null);
                }
                var attempt = await connectOnce(ct);
                if (attempt.Connection is { } connected)
                {
                    Volatile.Write(ref _current, connected);
                }
                return attempt;
            }, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            _disposed = true;
            if (_current is not null)
            {
                await _current.DisposeAsync();
                _current = null;
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
