using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.WebSockets;

/// <summary>
/// Every open /v1/ws connection, and one timer for all of them (instead of one per socket): every half interval, each
/// connection that has been silent both ways for half the interval gets a ping frame, so none stays silent longer
/// than the interval. When the host stops, every connection is closed with 1001 (the server's shutdown would otherwise
/// wait for them until its timeout).
/// </summary>
internal sealed class RunWebSocketKeepAlive : BackgroundService
{
    private readonly ConcurrentDictionary<RunWebSocketConnection, byte> _connections = new();
    private readonly IOptionsMonitor<RunWebSocketOptions> _options;
    private readonly TimeProvider _time;

    public RunWebSocketKeepAlive(IOptionsMonitor<RunWebSocketOptions> options, TimeProvider time, IHostApplicationLifetime lifetime)
    {
        _options = options;
        _time = time;
        lifetime.ApplicationStopping.Register(() => Task.WaitAll([.. _connections.Keys.Select(c => c.GoAwayAsync())], TimeSpan.FromSeconds(3)));
    }

    public int Count => _connections.Count;

    public void Add(RunWebSocketConnection connection) => _connections.TryAdd(connection, 0);

    public void Remove(RunWebSocketConnection connection) => _connections.TryRemove(connection, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var half = _options.CurrentValue.KeepAliveInterval / 2;
        using var timer = new PeriodicTimer(half, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                half = _options.CurrentValue.KeepAliveInterval / 2;
                timer.Period = half;
                foreach (var connection in _connections.Keys)
                {
                    _ = connection.PingIfIdleAsync(half);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }
}
