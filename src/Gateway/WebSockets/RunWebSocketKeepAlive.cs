using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.WebSockets;

/// <summary>
/// One timer for every /v1/ws connection (instead of one per socket): every half interval, each connection that has
/// been silent both ways for half the interval gets a ping frame, so none stays silent longer than the interval.
/// </summary>
internal sealed class RunWebSocketKeepAlive(IOptionsMonitor<RunWebSocketOptions> options, TimeProvider time) : BackgroundService
{
    private readonly ConcurrentDictionary<RunWebSocketConnection, byte> _connections = new();

    public int Count => _connections.Count;

    public void Add(RunWebSocketConnection connection) => _connections.TryAdd(connection, 0);

    public void Remove(RunWebSocketConnection connection) => _connections.TryRemove(connection, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var half = options.CurrentValue.KeepAliveInterval / 2;
        using var timer = new PeriodicTimer(half, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                half = options.CurrentValue.KeepAliveInterval / 2;
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
