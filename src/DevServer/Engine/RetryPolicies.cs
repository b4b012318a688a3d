using AgentOrchestrator.DevServer.Engine.State;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>Temporal's retry rules for activities and workflows: defaults, backoff and what may be retried.</summary>
internal static class RetryPolicies
{
    private static readonly TimeSpan DefaultInitialInterval = TimeSpan.FromSeconds(1);

    public static TimeSpan NonNegative(Duration? duration)
    {
        var value = duration?.ToTimeSpan() ?? TimeSpan.Zero;
        return value > TimeSpan.Zero ? value : TimeSpan.Zero;
    }

    public static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>A copy with the server's defaults filled in: initial 1 s, coefficient 2, maximum 100 x initial.</summary>
    public static RetryPolicy WithDefaults(RetryPolicy? policy)
    {
        var filled = policy?.Clone() ?? new RetryPolicy();
        var initial = NonNegative(filled.InitialInterval);
        if (initial == TimeSpan.Zero)
        {
            initial = DefaultInitialInterval;
            filled.InitialInterval = Duration.FromTimeSpan(initial);
        }
        if (filled.BackoffCoefficient < 1)
        {
            filled.BackoffCoefficient = 2.0;
        }
        if (NonNegative(filled.MaximumInterval) == TimeSpan.Zero)
        {
            filled.MaximumInterval = Duration.FromTimeSpan(initial * 100);
        }
        return filled;
    }

    public static TimeSpan BackoffFor(RetryPolicy policy, int attempt)
    {
        var initial = policy.InitialInterval.ToTimeSpan();
        var maximum = policy.MaximumInterval?.ToTimeSpan() ?? TimeSpan.Zero;
        var delayMs = initial.TotalMilliseconds * Math.Pow(policy.BackoffCoefficient, attempt - 1);
        var delay = double.IsFinite(delayMs) && delayMs < TimeSpan.MaxValue.TotalMilliseconds / 2 ? TimeSpan.FromMilliseconds(delayMs) : TimeSpan.MaxValue / 2;
        return maximum > TimeSpan.Zero && delay > maximum ? maximum : delay;
    }

    public static bool IsRetryable(Failure failure, RetryPolicy policy)
    {
        if (failure.ApplicationFailureInfo is { } application)
        {
            if (application.NonRetryable)
            {
                return false;
            }
            foreach (var type in policy.NonRetryableErrorTypes)
            {
                if (type == application.Type)
                {
                    return false;
                }
            }
            return true;
        }
        if (failure.TimeoutFailureInfo is { } timeout)
        {
            var name = timeout.TimeoutType switch
            {
                TimeoutType.StartToClose => "TemporalTimeout:StartToClose",
                TimeoutType.Heartbeat => "TemporalTimeout:Heartbeat",
                _ => null,
            };
            return name is not null && !policy.NonRetryableErrorTypes.Contains(name);
        }
        return failure.CanceledFailureInfo is null && failure.TerminatedFailureInfo is null;
    }

    /// <summary>Whether a failed activity attempt is retried, after how long, or why not.</summary>
    public static (bool Retry, TimeSpan Delay, RetryState State) DecideActivityRetry(ActivityState activity, Failure failure, DateTime nowUtc)
    {
        var policy = activity.Attributes.RetryPolicy;
        // The workflow asked the activity to stop: another attempt would only run work it gave up on.
        if (activity.CancelRequested)
        {
            return (false, TimeSpan.Zero, RetryState.CancelRequested);
        }
        if (!IsRetryable(failure, policy))
        {
            return (false, TimeSpan.Zero, RetryState.NonRetryableFailure);
        }
        if (policy.MaximumAttempts > 0 && activity.Attempt >= policy.MaximumAttempts)
        {
            return (false, TimeSpan.Zero, RetryState.MaximumAttemptsReached);
        }
        var delay = failure.ApplicationFailureInfo?.NextRetryDelay is { } next && next.ToTimeSpan() > TimeSpan.Zero
            ? next.ToTimeSpan()
            : BackoffFor(policy, activity.Attempt);
        if (activity.Expiration is { } expiration && nowUtc + delay >= expiration)
        {
            return (false, TimeSpan.Zero, RetryState.Timeout);
        }
        return (true, delay, RetryState.InProgress);
    }
}
