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
    private SharedConnection<HubConnection>? _shared;

    // Created on first use: its connect callback is this instance's method, which a field initializer cannot name.
    private SharedConnection<HubConnection> Shared => LazyInitializer.EnsureInitialized(ref _shared, () => new(this, _hubAddress, reconnect,
        loggerFactory.CreateLogger<AgentOrchestratorClient>(), c => c.State == HubConnectionState.Connected, ConnectOnceAsync));

    public async Task<IAsyncEnumerator<RunEvent>> OpenAsync(string runId, string? cursor, CancellationToken cancellationToken)
    {
        var connection = await Shared.GetAsync(cancellationToken);
        return connection.StreamAsync<RunEvent>("Subscribe", runId, cursor, cancellationToken).GetAsyncEnumerator(cancellationToken);
    }

    public Task? AckAsync(string runId, string cursor, CancellationToken cancellationToken) =>
        Shared.OpenOrNull?.InvokeAsync("Ack", runId, cursor, cancellationToken);

    public ValueTask DisposeAsync() => Shared.DisposeAsync();

    /// <summary>One connect attempt of the shared hub connection (the backoff around it retries; auth failures are not retried).</summary>
    private async Task<ConnectBackoff.Attempt<HubConnection>> ConnectOnceAsync(CancellationToken cancellationToken)
    {
        RetryAfterCapture? capture = null;
        var connection = BuildConnection(handler => capture = new RetryAfterCapture(handler));
        try
        {
            await connection.StartAsync(cancellationToken);
            return new ConnectBackoff.Attempt<HubConnection>(connection, null, null, null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            await connection.DisposeAsync();
            return new ConnectBackoff.Attempt<HubConnection>(null, e, (e as HttpRequestException)?.StatusCode, capture?.RetryAfter);
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
