using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Runs;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Subscribers;
using AgentOrchestrator.RunStreaming.Subscriptions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Serilog.Context;

namespace AgentOrchestrator.Gateway.Sse;

/// <summary>
/// GET /v1/runs/{runId}/events: the run's events as Server-Sent Events (id = event id, event = type, data = the
/// RunEvent as JSON), resuming after Last-Event-ID (or ?cursor=), with the same order, queue and reset rules as
/// the hub; the response ends after the terminal event. For clients without SignalR, such as curl.
/// </summary>
internal static class RunEventStreamEndpoints
{
    public const string TransportName = "sse";
    private const string LastEventIdHeader = "Last-Event-ID";
    // SSE has no back channel: the position a client resumes from is what it has (its acknowledgement).
    private static readonly RunStreamTransport Transport = new(TransportName, "The cursor (Last-Event-ID or ?cursor=)", AcknowledgesResumeCursor: true);

    public static void MapRunEventStreams(this IEndpointRouteBuilder endpoints, string authorizationPolicy)
    {
        endpoints.MapGet("/v1/runs/{runId}/events", StreamAsync).RequireAuthorization(authorizationPolicy);
        endpoints.MapGet("/v1/runs/{runId}/subscribers", ListSubscribersAsync).RequireAuthorization(authorizationPolicy);
    }

    private static async Task StreamAsync(string runId, HttpContext http, RunSubscriptions subscriptions)
    {
        var tenant = TenantIds.TenantOf(http.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        using var runScope = LogContext.PushProperty("RunId", runId);
        var cursor = http.Request.Headers[LastEventIdHeader].ToString() is { Length: > 0 } lastEventId ? lastEventId : http.Request.Query["cursor"].ToString();
        var subscriptionId = http.Request.Query["subscriptionId"].ToString();
        var outcome = await subscriptions.SubscribeAsync(new RunSubscribeRequest
        {
            TenantId = tenant,
            RunId = runId,
            SubscriptionId = subscriptionId.Length > 0 ? subscriptionId : null,
            Cursor = cursor,
            Subject = TenantIds.SubjectOf(http.User),
            Transport = Transport,
        }, http.RequestAborted);
        if (!outcome.Opened)
        {
            var error = outcome.Error;
            await (error.IsRunNotFound ? RunEndpoints.RunNotFound() : Invalid(error.Field ?? "request", error.Message)).ExecuteAsync(http);
            return;
        }
        using var subscription = outcome.Subscription;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        await http.Response.StartAsync(http.RequestAborted);
        try
        {
            await foreach (var runEvent in subscription.EventsAsync(http.RequestAborted))
            {
                await WriteEventAsync(http.Response, runEvent.Id, runEvent.Type,
                    JsonSerializer.SerializeToUtf8Bytes(runEvent, DeliveryJsonContext.Default.RunEvent), http.RequestAborted);
            }
        }
        catch (RunStreamEndedException e)
        {
            // The stream is already open: the typed error travels as an event the client can read before the end.
            var error = new StreamError(e.Code, e.Message);
            await WriteEventAsync(http.Response, id: null, "error", JsonSerializer.SerializeToUtf8Bytes(error, DeliveryJsonContext.Default.StreamError),
                http.RequestAborted);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static async Task<IResult> ListSubscribersAsync(string runId, HttpContext http, RunService runs, RunSubscriptions subscriptions)
    {
        var tenant = TenantIds.TenantOf(http.User);
        if (!await runs.ExistsAsync(tenant, runId, http.RequestAborted))
        {
            return RunEndpoints.RunNotFound();
        }
        return Results.Json(new RunSubscribersResponse(runId, subscriptions.List(tenant, runId)), DeliveryJsonContext.Default.RunSubscribersResponse);
    }

    private static async Task WriteEventAsync(HttpResponse response, string? id, string type, byte[] data, CancellationToken cancellationToken)
    {
        var head = id is null ? $"event: {type}\ndata: " : $"id: {id}\nevent: {type}\ndata: ";
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(head), cancellationToken);
        await response.Body.WriteAsync(data, cancellationToken);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static IResult Invalid(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The request is invalid.", detail: message,
            extensions: new Dictionary<string, object?> { ["code"] = ControlProblems.InvalidRequestCode });
}

/// <summary>GET /v1/runs/{runId}/subscribers.</summary>
public sealed record RunSubscribersResponse(string RunId, IReadOnlyList<SubscriberPosition> Subscribers);

/// <summary>The data of an SSE "error" event: a typed code and what to do.</summary>
public sealed record StreamError(string Code, string Message);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunEvent))]
[JsonSerializable(typeof(StreamError))]
[JsonSerializable(typeof(RunSubscribersResponse))]
internal sealed partial class DeliveryJsonContext : JsonSerializerContext;
