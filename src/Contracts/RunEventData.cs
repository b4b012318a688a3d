namespace AgentOrchestrator.Contracts;

/// <summary><see cref="RunEvent.Data"/> of a step.retrying event: the attempt it supersedes (and every earlier one).</summary>
public sealed record StepRetryingData(int PreviousAttempt);

/// <summary>
/// <see cref="RunEvent.Data"/> of a step.waiting event: why the attempt waits ("token_budget", "cost_budget",
/// "model_concurrency", "model_rate_limited") and how long until the next attempt.
/// </summary>
public sealed record StepWaitingData(string Reason, long RetryAfterMs);
