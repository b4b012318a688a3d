using System.Text.Json;
using AgentOrchestrator.Gateway.Runs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AgentOrchestrator.Gateway.Auth;

internal static class DevTokenEndpoint
{
    private const int MaxScopes = 16;

    public static void MapDevTokenEndpoint(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/v1/dev/tokens", IssueAsync).AllowAnonymous();

    private static async Task<IResult> IssueAsync(HttpContext http, DevTokenIssuer issuer)
    {
        DevTokenRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(new LengthLimitedStream(http.Request.Body, 16 * 1024),
                GatewayRequestJsonContext.Default.DevTokenRequest, http.RequestAborted);
        }
        catch (Exception e) when (e is JsonException or LengthLimitedStream.LimitExceededException)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [e.Message] },
                title: "The request body is not valid JSON for this endpoint.", detail: e.Message);
        }
        var errors = new Dictionary<string, string[]>();
        if (!TenantIds.IsValid(request?.Tenant))
        {
            errors["tenant"] = ["'tenant' is required: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit."];
        }
        if (string.IsNullOrWhiteSpace(request?.Subject) || request.Subject.Length > 256)
        {
            errors["subject"] = ["'subject' is required (at most 256 characters)."];
        }
        if (request?.Scopes is { } scopes && (scopes.Count > MaxScopes || scopes.Any(scope => !TenantIds.IsValid(scope))))
        {
            errors["scopes"] = [$"'scopes' holds at most {MaxScopes} names, each 1 to 64 letters, digits, '.', '_' or '-'."];
        }
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "The token request is invalid.", detail: string.Join(" ", errors.Values.SelectMany(m => m)));
        }
        return Results.Ok(new DevTokenResponse(issuer.Issue(request!.Tenant!, request.Subject!, request.Scopes ?? [])));
    }
}
