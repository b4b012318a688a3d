using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Tenancy;
using AgentOrchestrator.Tenancy.Budgets;
using Microsoft.SemanticKernel;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Workers.Budgets;

/// <summary>
/// What every model activity does around its model call: draw from the tenant's budget before, settle after, and turn
/// "not now" into a durable wait. A wait publishes step.waiting for the attempt and fails it with a retryable
/// ApplicationFailure whose NextRetryDelay is when the budget (or the model) will have room: Temporal holds the wait,
/// no worker slot or memory does. Over budget under the Fail policy: a non-retryable typed failure.
/// </summary>
public sealed class ModelCallGuard(ModelBudget budget, ModelBudgetMetrics metrics, ILogger<ModelCallGuard> logger)
{
    /// <summary>ApplicationFailure type of a budget or rate-limit wait (retryable, with NextRetryDelay).</summary>
    public const string WaitFailure = "model.wait";

    /// <summary>ApplicationFailure types of a Fail-policy refusal (non-retryable): the run fails with it.</summary>
    public const string TokenQuotaFailure = "quota.model_tokens";

    /// <summary>ApplicationFailure type when the tenant's model cost budget refuses a call (non-retryable).</summary>
    public const string CostQuotaFailure = "quota.model_cost";

    private static readonly TimeSpan RateLimitBackoffBase = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RateLimitBackoffCap = TimeSpan.FromSeconds(30);

    /// <summary>True for the failures this guard throws, which the activities pass through as they are.</summary>
    public static bool IsGuardFailure(ApplicationFailureException e) =>
        e.ErrorType is WaitFailure or TokenQuotaFailure or CostQuotaFailure;

    /// <summary>
    /// Admits the call or throws the wait / refusal. The call id is the workflow run and activity id, the same on
    /// every attempt, so a waiting call finds its reservation again.
    /// </summary>
    internal async Task<ModelCallLease> EnterAsync(ActivityInfo info, StepEventPublisher events, string tenant, string model,
        long promptChars, CancellationToken cancellationToken)
    {
        ModelBudgetDecision decision = await budget.AdmitAsync(tenant, $"{info.WorkflowRunId}/{info.ActivityId}", model, promptChars, cancellationToken);
        switch (decision.Outcome)
        {
            case AdmissionOutcome.Admitted:
                return decision.Lease!;
            case AdmissionOutcome.Rejected:
                string type = decision.Reason == BudgetReason.CostBudget ? CostQuotaFailure : TokenQuotaFailure;
                BudgetLog.Rejected(logger, tenant, events.Attempt, BudgetReasons.Name(decision.Reason));
                // The code leads the message, as in the API's errors, so run.failed names it.
                throw new ApplicationFailureException(
                    decision.Reason == BudgetReason.CostBudget
                        ? $"[{type}] Tenant '{tenant}' is over its model cost budget (ModelCostPerHour) and its policy is Fail."
                        : $"[{type}] Tenant '{tenant}' is over its model token budget (ModelTokensPerMinute) and its policy is Fail.",
                    type, nonRetryable: true);
            default:
                // Jitter spreads calls that were told the same refill time, so they do not all come back at once.
                TimeSpan delay = decision.RetryAfter + TimeSpan.FromMilliseconds(
                    Random.Shared.NextDouble() * Math.Min(1000, (decision.RetryAfter.TotalMilliseconds / 10) + 50));
                throw await WaitAsync(events, tenant, BudgetReasons.Name(decision.Reason), delay, inner: null, cancellationToken);
        }
    }

    /// <summary>
    /// The model refused the call for load (HTTP 429 or 503): the wait it asks for, at least exponential backoff with
    /// full jitter by attempt; null for any other failure.
    /// </summary>
    public static TimeSpan? RateLimitDelay(Exception e, int attempt)
    {
        if (ModelStatus(e, out TimeSpan? retryAfter) is not ((int)HttpStatusCode.TooManyRequests or (int)HttpStatusCode.ServiceUnavailable))
        {
            return null;
        }
        double backoffMs = Math.Min(RateLimitBackoffCap.TotalMilliseconds, RateLimitBackoffBase.TotalMilliseconds * Math.Pow(2, Math.Max(0, attempt - 1)));
        var jittered = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * backoffMs);
        return retryAfter is { } asked && asked > jittered ? asked : jittered;
    }

    /// <summary>Publishes step.waiting (reason model_rate_limited) and returns the retryable failure to throw.</summary>
    internal Task<ApplicationFailureException> RateLimitedAsync(StepEventPublisher events, string tenant, TimeSpan delay, Exception cause,
        CancellationToken cancellationToken)
    {
        // Budget waits are counted where they are decided (ModelBudget); rate-limit waits here.
        metrics.Waited(tenant, BudgetReasons.ModelRateLimited);
        return WaitAsync(events, tenant, BudgetReasons.ModelRateLimited, delay, cause, cancellationToken);
    }

    private async Task<ApplicationFailureException> WaitAsync(StepEventPublisher events, string tenant, string reason, TimeSpan delay,
        Exception? inner, CancellationToken cancellationToken)
    {
        long delayMs = (long)Math.Ceiling(delay.TotalMilliseconds);
        await events.PublishAsync(RunEventTypes.StepWaiting, 0, text: null, cancellationToken,
            JsonSerializer.SerializeToElement(new StepWaitingData(reason, delayMs), WorkerJsonContext.Default.StepWaitingData));
        BudgetLog.Waiting(logger, tenant, events.Attempt, reason, delayMs);
        string message = $"Model call waits {delayMs} ms ({reason}); Temporal retries it as a new attempt.";
        // Benign: an expected wait, not an error in the SDK's logs and metrics.
        return inner is null
            ? new ApplicationFailureException(message, WaitFailure, nonRetryable: false, nextRetryDelay: delay, category: ApplicationErrorCategory.Benign)
            : new ApplicationFailureException(message, inner, WaitFailure, nonRetryable: false, nextRetryDelay: delay, category: ApplicationErrorCategory.Benign);
    }

    private static int? ModelStatus(Exception e, out TimeSpan? retryAfter)
    {
        retryAfter = null;
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is ClientResultException { Status: > 0 } result)
            {
                retryAfter = RetryAfterOf(result.GetRawResponse());
                return result.Status;
            }
            if (current is HttpOperationException { StatusCode: { } code } && current.InnerException is not ClientResultException)
            {
                return (int)code;
            }
        }
        return null;
    }

    // OpenAI sends retry-after-ms besides the standard Retry-After (seconds or an HTTP date).
    private static TimeSpan? RetryAfterOf(System.ClientModel.Primitives.PipelineResponse? response)
    {
        if (response is null)
        {
            return null;
        }
        if (response.Headers.TryGetValue("retry-after-ms", out string? ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds))
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }
        if (response.Headers.TryGetValue("Retry-After", out string? value) && value is not null)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds))
            {
                return TimeSpan.FromSeconds(seconds);
            }
            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset at))
            {
                TimeSpan until = at - DateTimeOffset.UtcNow;
                return until > TimeSpan.Zero ? until : TimeSpan.Zero;
            }
        }
        return null;
    }
}

internal static partial class BudgetLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Model call of tenant {TenantId} attempt {Attempt} waits {DelayMs} ms ({Reason})")]
    public static partial void Waiting(ILogger logger, string tenantId, int attempt, string reason, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model call of tenant {TenantId} attempt {Attempt} refused: over budget ({Reason}), policy Fail")]
    public static partial void Rejected(ILogger logger, string tenantId, int attempt, string reason);
}
