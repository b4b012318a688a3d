using Temporalio.Common;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows;

/// <summary>
/// Activity options every flow shares, so a model call, a tool call or an event publish is retried the same way
/// everywhere. A flow author overrides them per agent (<see cref="Authoring.Agent.ModelCall"/>,
/// <see cref="Authoring.Agent.ToolCall"/>); docs/authoring-flows.md says what each setting trades.
/// </summary>
public static class AgentActivityOptions
{
    /// <summary>
    /// How long a model call or tool call may go without a heartbeat before Temporal takes its worker for dead and
    /// retries the step on another worker. Workers heartbeat every Worker:HeartbeatInterval (250 ms), which the
    /// SDK already sends to Temporal at that rate, so a short timeout costs a healthy worker nothing more; it is
    /// what makes a killed worker's step stream again within seconds instead of half a minute. Twelve heartbeats fit in
    /// it, so a worker starved of CPU for a moment is not taken for dead.
    /// </summary>
    public static TimeSpan HeartbeatTimeout => TimeSpan.FromSeconds(3);

    /// <summary>
    /// A model call streams for a while: generous start-to-close, the heartbeat timeout above, and retries with
    /// backoff (a retried call streams as a new attempt that supersedes the old one); the first retry comes after
    /// 0.5 s, so a dead worker's step streams again about 3.5 s after its last heartbeat.
    /// Waits for the tenant's budget or the model's rate limit are attempts too (they fail with NextRetryDelay, so
    /// the wait is durable and holds no worker), hence 12 attempts: a token or cost wait takes one attempt per call
    /// (the call keeps its reservation), and a rate-limited model gets minutes of backoff before the step fails.
    /// </summary>
    public static ActivityOptions ModelCall { get; } = new()
    {
        StartToCloseTimeout = TimeSpan.FromMinutes(5),
        HeartbeatTimeout = HeartbeatTimeout,
        RetryPolicy = new RetryPolicy
        {
            InitialInterval = TimeSpan.FromMilliseconds(500),
            BackoffCoefficient = 2,
            MaximumInterval = TimeSpan.FromSeconds(30),
            MaximumAttempts = 12,
        },
    };

    /// <summary>
    /// Tools are the user's code and may fail transiently (a flaky API): more attempts, quicker first retry. They are
    /// told an idempotency key that stays the same across attempts, so a retried side effect can be de-duplicated.
    /// The worker heartbeats while a tool runs: that is how a dead worker is noticed and how a canceled run's
    /// cancellation reaches a slow tool.
    /// </summary>
    public static ActivityOptions ToolCall { get; } = new()
    {
        StartToCloseTimeout = TimeSpan.FromMinutes(2),
        HeartbeatTimeout = HeartbeatTimeout,
        RetryPolicy = new RetryPolicy
        {
            InitialInterval = TimeSpan.FromMilliseconds(500),
            BackoffCoefficient = 2,
            MaximumInterval = TimeSpan.FromSeconds(10),
            MaximumAttempts = 5,
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
