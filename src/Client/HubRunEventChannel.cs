using AgentOrchestrator.Contracts;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Client;

/// <summary>Run event streams over one shared SignalR hub connection (/hubs/runs); stream errors are HubExceptions "[code] message".</summary>
internal sealed class HubRunEventChannel(Uri baseAddress, AgentOrchestratorClientOptions options, ReconnectPolicy reconnect, ILoggerFactory loggerFactory)
    : IRunEventChannel
{
    private readonly Uri _hubAddress = new(baseAddress, "hubs/runs");
    private readonly ILogger _logger = loggerFactory.CreateLogger<AgentOrchestratorClient>();
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private HubConnection? _connection;
    private bool _disposed;

    public async Task<IAsyncEnumerator<RunEvent>> OpenAsync(string runId, string? cursor, CancellationToken cancellationToken)
    {
        var connection = await ConnectAsync(cancellationToken);
        return connection.StreamAsync<RunEvent>("Subscribe", runId, cursor, cancellationToken).GetAsyncEnumerator(cancellationToken);
    }

    public Task? AckAsync(string runId, string cursor, CancellationToken cancellationToken) =>
        Volatile.Read(ref _connection) is { State: HubConnectionState.Connected } connection
            ? connection.InvokeAsync("Ack", runId, cursor, cancellationToken)
            : null;

    public async ValueTask DisposeAsync()
    {
        await _connectGate.WaitAsync();
        try
        {
            _disposed = true;
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }
        }
        finally
        {
            _connectGate.Release();
        }
    }

    /// <summary>The shared hub connection, (re)connecting with backoff when it is down. Auth failures are not retried.</summary>
    private async Task<HubConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        await _connectGate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is { State: HubConnectionState.Connected } current)
            {
                return current;
            }
            return await ConnectBackoff.ConnectAsync(_hubAddress, reconnect, _logger, async ct =>
            {
                if (_connection is not null)
                {
                    await _connection.DisposeAsync();
                    Volatile.Write(ref _connection, null);
                }
                RetryAfterCapture? capture = null;
                var connection = BuildConnection(handler => capture = new RetryAfterCapture(handler));
                try
                {
                    await connection.StartAsync(ct);
                    Volatile.Write(ref _connection, connection);
                    return new ConnectBackoff.Attempt<HubConnection>(connection, null, null, null);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    await connection.DisposeAsync();
                    return new ConnectBackoff.Attempt<HubConnection>(null, e, (e as HttpRequestException)?.StatusCode, capture?.RetryAfter);
                }
            }, cancellationToken);
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private HubConnection BuildConnection(Func<HttpMessageHandler, HttpMessageHandler> wrapHandler)
    {
        var builder = new HubConnectionBuilder().WithUrl(_hubAddress, hub =>
        {
            hub.HttpMessageHandlerFactory = wrapHandler;
            if (options.AccessTokenProvider is { } tokens)
            {
                hub.AccessTokenProvider = async () => await tokens(CancellationToken.None);
            }
            else
            {
                hub.Headers[AgentOrchestratorClient.ApiKeyHeader] = options.ApiKey!;
            }
        });
        builder.Services.AddSingleton(loggerFactory);
        return builder.Build();
    }
}
