using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentOrchestrator.Gateway.Runs;

public sealed record CreateRunRequest
{
    public string? Flow { get; init; }

    public string? Input { get; init; }
}

/// <param name="RunId">The run's id.</param>
/// <param name="TraceId">
/// The W3C trace id of the run's trace (the start request's), when this gateway records traces: find the run in the
/// tracing backend by it. Absent when tracing is off or the request was not sampled, and on an idempotent repeat.
/// </param>
public sealed record CreateRunResponse(
    string RunId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceId = null);

public sealed record RunStatusResponse
{
    public required string RunId { get; init; }

    public required string Flow { get; init; }

    /// <summary>running, completed, failed, canceled, terminated or timed_out.</summary>
    public required string Status { get; init; }

    /// <summary>The workflow's result as it returned it (a JSON string for text flows); only when completed.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Result { get; init; }
}

public sealed record DevTokenRequest
{
    public string? Tenant { get; init; }

    public string? Subject { get; init; }

    /// <summary>Scopes issued in the token's "scope" claim (space-separated), e.g. ["admin"] for the admin API.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }
}

public sealed record DevTokenResponse(string Token);

/// <summary>
/// Request bodies are strict: an unknown property is a 400, so a typo ("inpt") or a field this version does not
/// support is reported instead of silently ignored.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(CreateRunRequest))]
[JsonSerializable(typeof(DevTokenRequest))]
internal sealed partial class GatewayRequestJsonContext : JsonSerializerContext;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateRunResponse))]
[JsonSerializable(typeof(RunStatusResponse))]
[JsonSerializable(typeof(DevTokenResponse))]
internal sealed partial class GatewayResponseJsonContext : JsonSerializerContext;
