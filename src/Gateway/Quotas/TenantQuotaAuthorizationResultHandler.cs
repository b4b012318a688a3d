using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Tenancy;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// The tenant quota middleware for HTTP. It sits where ASP.NET Core hands an authorized request on to its endpoint,
/// so it runs for every endpoint that requires the gateway policy (REST, SSE, hub negotiate and connect, and any
/// endpoint added later) right after the caller's tenant is known, whatever middleware order a host uses:
/// <list type="bullet">
/// <item>MaxMessageBytes: Content-Length checked up front, and the server's body limit lowered so a chunked body is
/// refused while it is read (413, quota.message_size);</item>
/// <item>MaxConnections: hub negotiate and transport connects are refused while the tenant is at its limit (429);</item>
/// <item>run-start quotas for endpoints marked <see cref="StartsRunAttribute"/> (429).</item>
/// </list>
/// A forbidden caller gets 403 problem+json with code "forbidden"; other failed authorizations go to the default handler (401).
/// </summary>
internal sealed class TenantQuotaAuthorizationResultHandler(QuotaSettings settings, TenantConnections connections, RunStartGate starts,
    QuotaRejections rejections) : IAuthorizationMiddlewareResultHandler
{
    public const string ForbiddenCode = "forbidden";

    private readonly AuthorizationMiddlewareResultHandler _default = new();

    /// <remarks>
    /// Not an async method: a hub or SSE request stays inside <c>next</c> for its connection's lifetime, so every
    /// async frame on the way there is kept per open connection. The common path returns <c>next</c>'s task itself.
    /// </remarks>
    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden)
        {
            // Authenticated but not allowed: a typed problem, like every other refusal of the API.
            return TypedResults.Problem("The credentials are valid but do not allow this request (admin endpoints need the 'admin' scope).",
                statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.",
                extensions: new Dictionary<string, object?> { ["code"] = ForbiddenCode }).ExecuteAsync(context);
        }
        if (!authorizeResult.Succeeded || context.User.FindFirst(TenantIds.TenantClaim)?.Value is not { } tenant || !TenantIds.IsValid(tenant))
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }
        var limits = settings.For(tenant);
        var endpoint = context.GetEndpoint();

        if (limits.MaxMessageBytes is { } maxBytes)
        {
            if (context.Request.ContentLength > maxBytes)
            {
                return rejections.WriteAsync(context, tenant, QuotaRejection.MessageSize(context.Request.ContentLength.Value, maxBytes));
            }
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit
                && (bodyLimit.MaxRequestBodySize is null || bodyLimit.MaxRequestBodySize > maxBytes))
            {
                bodyLimit.MaxRequestBodySize = maxBytes;
            }
        }

        if (endpoint?.Metadata.GetMetadata<HubMetadata>() is not null && limits.MaxConnections is { } maxConnections
            && IsConnectionStart(context, endpoint) && connections.Count(tenant) >= maxConnections)
        {
            return rejections.WriteAsync(context, tenant, QuotaRejection.Connections(maxConnections, settings.Current.RetryAfterSeconds));
        }

        if (endpoint?.Metadata.GetMetadata<StartsRunAttribute>() is not null)
        {
            return StartRunAsync(next, context, tenant, limits);
        }
        return InvokeAsync(next, context, tenant, limits);
    }

    private async Task StartRunAsync(RequestDelegate next, HttpContext context, string tenant, EffectiveTenantPolicy limits)
    {
        var rejection = await starts.RunAsync(tenant, async () =>
        {
            await InvokeAsync(next, context, tenant, limits);
            return context.Response.StatusCode == StatusCodes.Status201Created;
        }, context.RequestAborted);
        if (rejection is not null)
        {
            await rejection.WriteAsync(context);
        }
    }

    /// <summary>Negotiate, or a transport request that opens a connection (WebSocket upgrade, SSE).</summary>
    private static bool IsConnectionStart(HttpContext context, Endpoint endpoint) =>
        endpoint.Metadata.GetMetadata<NegotiateMetadata>() is not null || ConnectionRequests.IsWebSocketOrEventStream(context);

    /// <summary>Without a message size limit there is nothing to catch, so no frame of ours waits with the request.</summary>
    private Task InvokeAsync(RequestDelegate next, HttpContext context, string tenant, EffectiveTenantPolicy limits) =>
        limits.MaxMessageBytes is { } maxBytes ? InvokeLimitedAsync(next, context, tenant, maxBytes) : next(context);

    private async Task InvokeLimitedAsync(RequestDelegate next, HttpContext context, string tenant, int maxBytes)
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            // The body grew past the tenant's limit while the endpoint read it (no or a false Content-Length).
            await rejections.WriteAsync(context, tenant, QuotaRejection.MessageSize(-1, maxBytes));
        }
    }
}
