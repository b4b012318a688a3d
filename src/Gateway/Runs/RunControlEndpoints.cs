using System.Text.Json;
using System.Text.Json.Serialization;
using AgentOrchestrator.Gateway.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Serilog.Context;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Gateway.Runs;

/// <summary>Body of POST /v1/runs/{runId}/input: the request being answered and the answer (any JSON value).</summary>
public sealed record ProvideInputBody
{
    public string? RequestId { get; init; }

    public JsonElement? Answer { get; init; }
}

/// <summary>Strict like the run requests: an unknown property is a 400.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ProvideInputBody))]
internal sealed partial class RunControlJsonContext : JsonSerializerContext;

/// <summary>POST /v1/runs/{runId}/cancel and POST /v1/runs/{runId}/input.</summary>
internal static class RunControlEndpoints
{
    public static void MapRunControlEndpoints(this IEndpointRouteBuilder endpoints, string authorizationPolicy)
    {
        var runs = endpoints.MapGroup("/v1/runs").RequireAuthorization(authorizationPolicy);
        runs.MapPost("/{runId}/cancel", CancelAsync);
        runs.MapPost("/{runId}/input", ProvideInputAsync);
    }

    private static async Task<IResult> CancelAsync(string runId, HttpContext http, RunControlService control)
    {
        var tenant = TenantIds.TenantOf(http.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        using var runScope = LogContext.PushProperty("RunId", runId);
        RunControlResult result;
        try
        {
            result = await control.CancelAsync(tenant, runId, http.RequestAborted);
        }
        catch (RpcException e) when (IsUnavailable(e))
        {
            return ControlProblems.Unavailable();
        }
        return result.Status == RunControlStatus.Accepted ? Results.Accepted($"/v1/runs/{runId}") : ToProblem(result);
    }

    private static async Task<IResult> ProvideInputAsync(string runId, HttpContext http, RunControlService control, IOptions<GatewayOptions> options)
    {
        var tenant = TenantIds.TenantOf(http.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        using var runScope = LogContext.PushProperty("RunId", runId);
        var (body, error) = await ReadJsonAsync(http, RunControlJsonContext.Default.ProvideInputBody, options.Value.MaxInputLength);
        if (error is not null)
        {
            return error;
        }
        if (string.IsNullOrWhiteSpace(body!.RequestId) || body.Answer is not { } answer)
        {
            return ControlProblems.InvalidRequest("The body must be {\"requestId\": \"...\", \"answer\": <JSON value>}.");
        }
        RunControlResult result;
        try
        {
            result = await control.ProvideInputAsync(tenant, runId, body.RequestId, answer, http.RequestAborted);
        }
        catch (RpcException e) when (IsUnavailable(e))
        {
            return ControlProblems.Unavailable();
        }
        return result.Status == RunControlStatus.Accepted ? Results.Accepted($"/v1/runs/{runId}") : ToProblem(result);
    }

    /// <summary>A request body of at most the input limit (fully JSON-escaped, plus framing); a typed 400 otherwise.</summary>
    internal static async Task<(T? Body, IResult? Error)> ReadJsonAsync<T>(HttpContext http, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type,
        int maxInputLength)
        where T : class
    {
        var maxBodyBytes = (maxInputLength * 6L) + 4096;
        if (http.Request.ContentLength > maxBodyBytes)
        {
            return (null, ControlProblems.InvalidRequest($"The request body is larger than {maxBodyBytes} bytes."));
        }
        try
        {
            var body = await JsonSerializer.DeserializeAsync(new LengthLimitedStream(http.Request.Body, maxBodyBytes), type, http.RequestAborted);
            return body is null
                ? (null, ControlProblems.InvalidRequest("The request body must be a JSON object."))
                : (body, null);
        }
        catch (JsonException e)
        {
            return (null, ControlProblems.InvalidRequest($"The request body is not valid JSON for this endpoint: {e.Message}"));
        }
        catch (LengthLimitedStream.LimitExceededException)
        {
            return (null, ControlProblems.InvalidRequest($"The request body is larger than {maxBodyBytes} bytes."));
        }
    }

    internal static IResult ToProblem(RunControlResult result) => result.Status switch
    {
        RunControlStatus.NotFound => ControlProblems.RunNotFound(),
        RunControlStatus.Finished => ControlProblems.RunFinished(),
        _ => ControlProblems.InvalidInput(result.Message ?? "The input was rejected."),
    };

    internal static bool IsUnavailable(RpcException e) =>
        e.Code is RpcException.StatusCode.Unavailable or RpcException.StatusCode.DeadlineExceeded;
}
