using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Quotas;
using AgentOrchestrator.Gateway.Runs;
using AgentOrchestrator.RunStreaming.Subscriptions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.WebSockets;

/// <summary>
/// GET /v1/ws: what every connection shares (services, options, the keep-alive registry), and the checks before the
/// upgrade: a WebSocket request, the tenant's connection limit (429 quota.connections, nothing accepted). Node admission
/// (503) and authentication (401) ran before this, as for the hub.
/// </summary>
internal sealed class RunWebSocketEndpoint(RunSubscriptions subscriptions, QuotaSettings quotas, TenantConnections connections,
    QuotaRejections rejections, RunWebSocketKeepAlive keepAlive, IOptionsMonitor<RunWebSocketOptions> options, TimeProvider time,
    ILogger<RunWebSocketEndpoint> logger)
{
    public const string Path = ConfigureGatewayJwtBearer.WebSocketPath;
    public const string TransportName = "websocket";

    public RunStreamTransport Transport { get; } = new(TransportName);

    public RunSubscriptions Subscriptions => subscriptions;

    public QuotaSettings Quotas => quotas;

    public QuotaRejections Rejections => rejections;

    public RunWebSocketKeepAlive KeepAlive => keepAlive;

    public RunWebSocketOptions Options => options.CurrentValue;

    public TimeProvider Time => time;

    public ILogger Logger => logger;

    /// <remarks>Not async: an accepted connection lives inside its own RunAsync, the only frame kept per open connection here.</remarks>
    public Task HandleAsync(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            return ControlProblems.InvalidRequest($"{Path} is a WebSocket endpoint: send a WebSocket upgrade request.").ExecuteAsync(http);
        }
        var tenant = TenantIds.TenantOf(http.User);
        var limit = quotas.For(tenant).MaxConnections;
        if (!connections.TryAdd(tenant, limit))
        {
            return rejections.WriteAsync(http, tenant, QuotaRejection.Connections(limit ?? 0, quotas.Current.RetryAfterSeconds));
        }
        return new RunWebSocketConnection(this, http, tenant).RunAsync();
    }

    /// <summary>Called once by each connection when it ends, whatever the reason.</summary>
    public void Closed(string tenant) => connections.Remove(tenant);
}
