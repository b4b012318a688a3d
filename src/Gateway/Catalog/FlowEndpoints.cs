using System.Text.Json;
using System.Text.Json.Serialization;
using AgentOrchestrator.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AgentOrchestrator.Gateway.Catalog;

/// <summary>One flow as GET /v1/flows lists it: name, description and the JSON schema of its <c>input</c>.</summary>
public sealed record FlowInfo(string Name, string Description, JsonElement InputSchema);

public sealed record FlowListResponse(IReadOnlyList<FlowInfo> Flows);

internal static class FlowEndpoints
{
    public static void MapFlowEndpoints(this IEndpointRouteBuilder endpoints, string authorizationPolicy)
    {
        endpoints.MapGet("/v1/flows", (FlowRegistry registry) => TypedResults.Json(
                new FlowListResponse(registry.All.Select(f => new FlowInfo(f.Name, f.Description, f.Input.ToJsonSchema())).ToList()),
                FlowJsonContext.Default.FlowListResponse))
            .RequireAuthorization(authorizationPolicy);
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(FlowListResponse))]
internal sealed partial class FlowJsonContext : JsonSerializerContext;
