namespace AgentOrchestrator.Contracts;

/// <summary><see cref="RunEvent.Data"/> of a step.retrying event: the attempt it supersedes (and every earlier one).</summary>
public sealed record StepRetryingData(int PreviousAttempt);
