using Temporalio.Common;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows;

/// <summary>Activity options every flow shares, so a model call or an event publish is retried the same way everywhere.</summary>
public static class AgentActivityOptions
{
    /// <summary>
    /// A model call streams for a while: generous start-to-close, a heartbeat timeout that notices a dead worker
    /// quickly, and retries with backoff (a retried call streams as a new attempt that supersedes the old one).
    /// Waits for the tenant's budget or the model's rate limit are attempts too (they fail with NextRetryDelay, so
    /// the wait is durable and holds no worker), hence 12 attempts: a token or cost wait takes one attempt per call
    /// (the call keeps its reservation), and a rate-limited model gets minutes of backoff before the step fails.
    /// </summary>
    public static ActivityOptions ModelCall { get; } = new()
    {
        StartToCloseTimeout = TimeSpan.FromMinutes(5),
        HeartbeatTimeout = TimeSpan.FromSeconds(30),
        RetryPolicy = new RetryPolicy
        {
            InitialInterval = TimeSpan.FromSeconds(1),
            BackoffCoefficient = 2,
            MaximumInterval = TimeSpan.FromSeconds(30),
            MaximumAttempts = 12,
        },
    };

    /// <summary>Publishing a run event is cheap and idempotent (stable event ids): retry quickly and often.</summary>
    public static RetryPolicy Publish { get; } = new()
    {
        InitialInterval = TimeSpan.FromMilliseconds(200),
        BackoffCoefficient = 2,
        MaximumInterval = TimeSpan.FromSeconds(10),
        MaximumAttempts = 10,
    };
}
