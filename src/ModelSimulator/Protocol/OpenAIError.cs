using System.Text.Json.Serialization;

namespace AgentOrchestrator.ModelSimulator.Protocol;

/// <summary>OpenAI-style error body: <c>{"error":{"message":..,"type":..,"param":..,"code":..}}</c>.</summary>
internal sealed class OpenAIErrorResponse
{
    public required OpenAIError Error { get; init; }
}

internal sealed class OpenAIError
{
    public required string Message { get; init; }

    public required string Type { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Param { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Code { get; init; }
}
