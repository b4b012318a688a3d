using AgentOrchestrator.Gateway.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// This node's connection admission rate: one token bucket for every new connection, whatever the tenant — hub
/// negotiate, a hub transport connect that skipped negotiation, plain WebSocket connects (/v1/ws) and SSE connects
/// (GET /v1/runs/{id}/events).
/// A negotiated connect (it carries the negotiate's id) is not charged again. It runs first in the pipeline,
/// before authentication, so a reconnect storm is turned away (503 admission + Retry-After) at the cost of a
/// dictionary-free check, and the connections that are admitted arrive at the configured rate.
/// </summary>
internal sealed class NodeAdmissionMiddleware(RequestDelegate next, QuotaSettings settings, TimeProvider time, QuotaRejections rejections)
{
    private readonly TokenBucket _bucket = new();

    public Task InvokeAsync(HttpContext context)
    {
        var node = settings.Current.Node;
        if (node.ConnectionsPerSecond is { } perSecond && IsNewConnection(context)
            && !_bucket.TryTake(perSecond, node.ConnectionBurst ?? (int)Math.Max(1, perSecond), time, out var retryAfter))
        {
            return rejections.WriteAsync(context, QuotaMetrics.UnknownTenant, QuotaRejection.Admission(retryAfter));
        }
        return next(context);
    }

    private static bool IsNewConnection(HttpContext context)
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments(ConfigureGatewayJwtBearer.HubPath, out var rest))
        {
            if (HttpMethods.IsPost(request.Method) && rest.Equals("/negotiate", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
            return !rest.HasValue && !request.Query.ContainsKey("id") && ConnectionRequests.IsWebSocketOrEventStream(context);
        }
        if (request.Path.StartsWithSegments(ConfigureGatewayJwtBearer.WebSocketPath))
        {
            return ConnectionRequests.IsWebSocketOrEventStream(context);
        }
        // GET /v1/runs/{runId}/events
        return HttpMethods.IsGet(request.Method)
            && request.Path.StartsWithSegments("/v1/runs", out var run)
            && run.Value is { } tail && tail.EndsWith("/events", StringComparison.Ordinal)
            && tail.AsSpan(1, tail.Length - "/events".Length - 1).IndexOf('/') < 0;
    }
}

/// <summary>Puts <see cref="NodeAdmissionMiddleware"/> at the front of every host's pipeline (no Use* call needed).</summary>
internal sealed class NodeAdmissionStartupFilter(QuotaSettings settings) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        // Resolving the settings here validates the quota configuration while the host starts.
        _ = settings.Current;
        app.UseMiddleware<NodeAdmissionMiddleware>();
        next(app);
    };
}
