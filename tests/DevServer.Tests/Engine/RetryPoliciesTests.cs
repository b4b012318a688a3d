using AgentOrchestrator.DevServer.Engine;
using AgentOrchestrator.DevServer.Engine.State;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Tests.Engine;

/// <summary>Temporal's retry rules as the engine applies them to activities and workflows.</summary>
public sealed class RetryPoliciesTests
{
    [Fact]
    public void WithDefaults_EmptyPolicy_FillsTheServerDefaults()
    {
        var filled = RetryPolicies.WithDefaults(null);

        Assert.Equal(TimeSpan.FromSeconds(1), filled.InitialInterval.ToTimeSpan());
        Assert.Equal(2.0, filled.BackoffCoefficient);
        Assert.Equal(TimeSpan.FromSeconds(100), filled.MaximumInterval.ToTimeSpan());
    }

    [Fact]
    public void BackoffFor_GrowingAttempts_MultipliesUntilTheMaximum()
    {
        var policy = RetryPolicies.WithDefaults(new RetryPolicy
        {
            InitialInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(2)),
            BackoffCoefficient = 3,
            MaximumInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(30)),
        });

        Assert.Equal(TimeSpan.FromSeconds(2), RetryPolicies.BackoffFor(policy, 1));
        Assert.Equal(TimeSpan.FromSeconds(6), RetryPolicies.BackoffFor(policy, 2));
        Assert.Equal(TimeSpan.FromSeconds(18), RetryPolicies.BackoffFor(policy, 3));
        Assert.Equal(TimeSpan.FromSeconds(30), RetryPolicies.BackoffFor(policy, 4));
        Assert.Equal(TimeSpan.FromSeconds(30), RetryPolicies.BackoffFor(policy, 400));
    }

    [Fact]
    public void IsRetryable_FailureKinds_FollowsThePolicy()
    {
        var policy = new RetryPolicy { NonRetryableErrorTypes = { "Fatal", "TemporalTimeout:Heartbeat" } };

        Assert.True(RetryPolicies.IsRetryable(Application("Transient"), policy));
        Assert.False(RetryPolicies.IsRetryable(Application("Fatal"), policy));
        Assert.False(RetryPolicies.IsRetryable(new Failure { ApplicationFailureInfo = new ApplicationFailureInfo { Type = "X", NonRetryable = true } }, policy));
        Assert.True(RetryPolicies.IsRetryable(Timeout(TimeoutType.StartToClose), policy));
        Assert.False(RetryPolicies.IsRetryable(Timeout(TimeoutType.Heartbeat), policy));
        Assert.False(RetryPolicies.IsRetryable(Timeout(TimeoutType.ScheduleToClose), policy));
        Assert.False(RetryPolicies.IsRetryable(new Failure { CanceledFailureInfo = new CanceledFailureInfo() }, policy));
    }

    [Fact]
    public void DecideActivityRetry_EachStoppingReason_ReportsItsRetryState()
    {
        var now = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var limited = Activity(maximumAttempts: 3, attempt: 3, expiration: null);
        var expiring = Activity(maximumAttempts: 0, attempt: 1, expiration: now.AddMilliseconds(500));
        var cancelled = Activity(maximumAttempts: 0, attempt: 1, expiration: null);
        cancelled.CancelRequested = true;
        var retrying = Activity(maximumAttempts: 0, attempt: 2, expiration: null);

        Assert.Equal(RetryState.MaximumAttemptsReached, RetryPolicies.DecideActivityRetry(limited, Application("E"), now).State);
        Assert.Equal(RetryState.Timeout, RetryPolicies.DecideActivityRetry(expiring, Application("E"), now).State);
        Assert.Equal(RetryState.CancelRequested, RetryPolicies.DecideActivityRetry(cancelled, Application("E"), now).State);
        var decision = RetryPolicies.DecideActivityRetry(retrying, Application("E"), now);
        Assert.True(decision.Retry);
        Assert.Equal(TimeSpan.FromSeconds(2), decision.Delay);
        var explicitDelay = Application("E");
        explicitDelay.ApplicationFailureInfo.NextRetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(7));
        Assert.Equal(TimeSpan.FromSeconds(7), RetryPolicies.DecideActivityRetry(retrying, explicitDelay, now).Delay);
    }

    private static Failure Application(string type) => new() { ApplicationFailureInfo = new ApplicationFailureInfo { Type = type } };

    private static Failure Timeout(TimeoutType type) => new() { TimeoutFailureInfo = new TimeoutFailureInfo { TimeoutType = type } };

    private static ActivityState Activity(int maximumAttempts, int attempt, DateTime? expiration) => new()
    {
        ScheduledEventId = 5,
        Attributes = new ActivityTaskScheduledEventAttributes { RetryPolicy = RetryPolicies.WithDefaults(new RetryPolicy { MaximumAttempts = maximumAttempts }) },
        FirstScheduledTime = DateTime.UtcNow,
        TaskQueue = "tq",
        Attempt = attempt,
        Expiration = expiration,
    };
}
