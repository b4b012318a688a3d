namespace AgentOrchestrator.RunStreaming.Subscriptions;

/// <summary>Why a subscribe (or an ack) was refused; each transport maps it to its own error form. Nothing changed.</summary>
/// <param name="Code">"invalid_request" or "run_not_found" (<see cref="InvalidRequestCode"/>, <see cref="RunNotFoundCode"/>).</param>
/// <param name="Field">The request field at fault ("cursor", "subscriptionId"); null for a run not found.</param>
public sealed record SubscribeError(string Code, string? Field, string Message)
{
    public const string InvalidRequestCode = "invalid_request";
    public const string RunNotFoundCode = "run_not_found";

    /// <summary>The same answer for an unknown run and for another tenant's run: callers never learn which.</summary>
    public static SubscribeError RunNotFound { get; } = new(RunNotFoundCode, null, "run not found");

    public bool IsRunNotFound => Code == RunNotFoundCode;

    internal static SubscribeError InvalidRequest(string field, string message) => new(InvalidRequestCode, field, message);
}
