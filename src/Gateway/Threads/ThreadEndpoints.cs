using System.Text.Json;
using System.Text.Json.Serialization;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Runs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Serilog.Context;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Gateway.Threads;

public sealed record CreateThreadBody
{
    /// <summary>The assistant's instructions; omitted: the default assistant.</summary>
    public string? Instructions { get; init; }
}

public sealed record CreateThreadResponse(string ThreadId);

public sealed record PostMessageBody
{
    public string? Text { get; init; }
}

public sealed record PostMessageResponse(string ThreadId, int Turn, string Step, string Text);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(CreateThreadBody))]
[JsonSerializable(typeof(PostMessageBody))]
internal sealed partial class ThreadRequestJsonContext : JsonSerializerContext;

/// <summary>POST /v1/threads (create) and POST /v1/threads/{threadId}/messages (one turn).</summary>
internal static class ThreadEndpoints
{
    public static void MapThreadEndpoints(this IEndpointRouteBuilder endpoints, string authorizationPolicy)
    {
        var threads = endpoints.MapGroup("/v1/threads").RequireAuthorization(authorizationPolicy);
        threads.MapPost("/", CreateAsync);
        threads.MapPost("/{threadId}/messages", PostMessageAsync);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, ThreadService threads, IOptions<GatewayOptions> options)
    {
        var tenant = TenantIds.TenantOf(http.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        string? instructions = null;
        // The body is optional: none (Content-Length: 0) makes a thread with the default assistant.
        if (http.Request.ContentLength != 0)
        {
            var (body, error) = await RunControlEndpoints.ReadJsonAsync(http, ThreadRequestJsonContext.Default.CreateThreadBody,
                options.Value.MaxInputLength);
            if (error is not null)
            {
                return error;
            }
            instructions = body!.Instructions;
        }
        if (instructions?.Length > options.Value.MaxInputLength)
        {
            return ControlProblems.InvalidRequest($"'instructions' is limited to {options.Value.MaxInputLength} characters.");
        }
        string threadId;
        try
        {
            threadId = await threads.CreateAsync(tenant, instructions, http.RequestAborted);
        }
        catch (RpcException e) when (RunControlEndpoints.IsUnavailable(e))
        {
            return ControlProblems.Unavailable();
        }
        return Results.Created($"/v1/runs/{threadId}", new CreateThreadResponse(threadId));
    }

    private static async Task<IResult> PostMessageAsync(string threadId, HttpContext http, ThreadService threads, IOptions<GatewayOptions> options)
    {
        var tenant = TenantIds.TenantOf(http.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        using var runScope = LogContext.PushProperty("RunId", threadId);
        var maxLength = options.Value.MaxInputLength;
        var (body, error) = await RunControlEndpoints.ReadJsonAsync(http, ThreadRequestJsonContext.Default.PostMessageBody, maxLength);
        if (error is not null)
        {
            return error;
        }
        if (string.IsNullOrWhiteSpace(body!.Text) || body.Text.Length > maxLength)
        {
            return ControlProblems.InvalidRequest($"'text' is required: 1 to {maxLength} characters.");
        }
        ThreadTurnOutcome outcome;
        try
        {
            outcome = await threads.PostAsync(tenant, threadId, body.Text, http.RequestAborted);
        }
        catch (RpcException e) when (RunControlEndpoints.IsUnavailable(e))
        {
            return ControlProblems.Unavailable();
        }
        return outcome switch
        {
            { Turn: { } turn } => Results.Ok(new PostMessageResponse(threadId, turn.Turn, turn.Step, turn.Text)),
            { TurnFailed: true } => ControlProblems.Problem(StatusCodes.Status502BadGateway, ControlProblems.TurnFailedCode,
                "The turn failed.", outcome.Error ?? "The model call failed."),
            { Status: RunControlStatus.Rejected } => ControlProblems.InvalidRequest(outcome.Error ?? "The message was rejected."),
            _ => RunControlEndpoints.ToProblem(new RunControlResult(outcome.Status)),
        };
    }
}
