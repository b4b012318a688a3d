using System.Text.Json;

namespace AgentOrchestrator.Contracts;

/// <summary>Names of the workflow update through which a person answers a step's input request.</summary>
public static class HumanInputUpdates
{
    /// <summary>Update "provide-input": argument <see cref="ProvideInputRequest"/>, no result.</summary>
    public const string ProvideInput = "provide-input";
}

/// <summary>A person's answer to an input.requested event; <see cref="Answer"/> must match the request's JSON schema.</summary>
public sealed record ProvideInputRequest
{
    /// <summary>The <see cref="InputRequestedData.RequestId"/> being answered.</summary>
    public required string RequestId { get; init; }

    /// <summary>The answer, as JSON.</summary>
    public required JsonElement Answer { get; init; }
}

/// <summary><see cref="RunEvent.Data"/> of an input.requested event.</summary>
public sealed record InputRequestedData(string RequestId, string Prompt, JsonElement Schema, int? TimeoutSeconds);
