using System.Diagnostics;
using System.Text.Json;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Quotas;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Serilog.Context;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Gateway.Runs;

internal static class RunEndpoints
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public static void MapRunEndpoints(this IEndpointRouteBuilder endpoints, string authorizationPolicy)
    {
        var runs = endpoints.MapGroup("/v1/runs").RequireAuthorization(authorizationPolicy);
        runs.MapPost("/", CreateRunAsync);
        runs.MapGet("/{runId}", GetRunAsync).WithName("GetRun");
    }

    [StartsRun]
    private static async Task<IResult> CreateRunAsync(HttpContext http, RunRequestValidator validator, RunService runService,
        IOptions<GatewayOptions> options)
    {
        var tenant = TenantIds.TenantOf(http.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        var gateway = options.Value;

        string? idempotencyKey = null;
        if (http.Request.Headers.TryGetValue(IdempotencyKeyHeader, out var keyValues))
        {
            idempotencyKey = keyValues.ToString();
            if (keyValues.Count != 1 || !IsValidIdempotencyKey(idempotencyKey, gateway.MaxIdempotencyKeyLength))
            {
                return Invalid(IdempotencyKeyHeader,
                    $"The {IdempotencyKeyHeader} header must be one value of 1 to {gateway.MaxIdempotencyKeyLength} visible ASCII characters.");
            }
        }

        // A JSON-escaped character takes at most 6 bytes ("\uXXXX"); anything longer cannot hold a valid input.
        var maxBodyBytes = (gateway.MaxInputLength * 6L) + 4096;
        if (http.Request.ContentLength > maxBodyBytes)
        {
            return Invalid("input", $"The request body is larger than {maxBodyBytes} bytes; 'input' is limited to {gateway.MaxInputLength} characters.");
        }
        CreateRunRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(new LengthLimitedStream(http.Request.Body, maxBodyBytes),
                GatewayRequestJsonContext.Default.CreateRunRequest, http.RequestAborted);
        }
        catch (JsonException e)
        {
            return Problem("The request body is not valid JSON for this endpoint.", e.Message, "body");
        }
        catch (LengthLimitedStream.LimitExceededException)
        {
            return Invalid("input", $"The request body is larger than {maxBodyBytes} bytes; 'input' is limited to {gateway.MaxInputLength} characters.");
        }
        if (request is null)
        {
            return Problem("The request body is not valid JSON for this endpoint.", "The body must be a JSON object {\"flow\": \"...\", \"input\": \"...\"}.", "body");
        }
        if (validator.Validate(request.Flow, request.Input) is { } errors)
        {
            return Results.ValidationProblem(errors, title: "The run request is invalid.", detail: RunRequestValidator.Describe(errors), extensions: InvalidRequestCode);
        }

        RunStart start;
        try
        {
            start = await runService.StartAsync(tenant, TenantIds.SubjectOf(http.User), request.Flow!, request.Input!, idempotencyKey, http.RequestAborted);
        }
        catch (Exception e) when (IsTemporalUnavailable(e))
        {
            return TemporalUnavailable();
        }
        using var runScope = LogContext.PushProperty("RunId", start.RunId);
        var location = $"/v1/runs/{start.RunId}";
        if (start.Created)
        {
            return Results.Created(location, new CreateRunResponse(start.RunId, RecordedTraceId()));
        }
        http.Response.Headers.Location = location;
        // The run's trace is the first request's, not this one's.
        return Results.Ok(new CreateRunResponse(start.RunId));
    }

    private static async Task<IResult> GetRunAsync(string runId, HttpContext http, RunService runService)
    {
        var tenant = TenantIds.TenantOf(http.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        using var runScope = LogContext.PushProperty("RunId", runId);
        RunDescription? run;
        try
        {
            run = await runService.DescribeAsync(tenant, runId, withResult: true, http.RequestAborted);
        }
        catch (Exception e) when (IsTemporalUnavailable(e))
        {
            return TemporalUnavailable();
        }
        if (run is null)
        {
            return RunNotFound();
        }
        return Results.Ok(new RunStatusResponse { RunId = run.RunId, Flow = run.Flow, Status = run.Status, Result = run.Result });
    }

    /// <summary>The same answer for an unknown run and for another tenant's run: callers never learn which.</summary>
    public static IResult RunNotFound() => ControlProblems.RunNotFound();

    /// <summary>Temporal unreachable (or, for the lazy client, its first connection failing): 503, safe to retry.</summary>
    private static bool IsTemporalUnavailable(Exception e) =>
        e is RpcException { Code: RpcException.StatusCode.Unavailable or RpcException.StatusCode.DeadlineExceeded }
        || (e is InvalidOperationException && e.Message.Contains("connect", StringComparison.OrdinalIgnoreCase));

    private static IResult TemporalUnavailable() =>
        Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Runs are temporarily unavailable.",
            detail: "The orchestration service cannot be reached; retry later (with the same Idempotency-Key).");

    private static IResult Invalid(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The run request is invalid.", detail: message,
            extensions: InvalidRequestCode);

    private static IResult Problem(string title, string detail, string field) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [detail] }, title: title, detail: detail, extensions: InvalidRequestCode);

    // Every rejected request carries a machine-readable code (docs/api.md, "Errors"), as the quota and control errors do.
    private static Dictionary<string, object?> InvalidRequestCode => new() { ["code"] = ControlProblems.InvalidRequestCode };

    private static bool IsValidIdempotencyKey(string key, int maxLength)
    {
        if (key.Length == 0 || key.Length > maxLength)
        {
            return false;
        }
        foreach (var c in key)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The current request's trace id when an exporter records it (so it can be looked up), otherwise null.</summary>
    private static string? RecordedTraceId() =>
        Activity.Current is { Recorded: true } request ? request.TraceId.ToHexString() : null;
}
