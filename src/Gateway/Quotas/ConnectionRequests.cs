using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// Recognises requests that open a long-lived transport. Decided from the request itself, because SignalR adds the
/// WebSocket middleware inside its own endpoints: before them, HttpContext.WebSockets does not know an upgrade yet.
/// </summary>
internal static class ConnectionRequests
{
    public static bool IsWebSocketOrEventStream(HttpContext context)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true })
        {
            return true; // WebSocket over HTTP/2
        }
        return HttpMethods.IsGet(request.Method)
            && (request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase)
                || request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase));
    }
}
