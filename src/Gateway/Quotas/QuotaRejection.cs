using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// A refused request, in the shape every client understands: REST gets problem+json with "code" (and, when waiting
/// helps, a Retry-After header and "retryAfterSeconds"); the hub gets a HubException "[code] message".
/// </summary>
public sealed record QuotaRejection(string Code, string Reason, int StatusCode, string Message, int? RetryAfterSeconds)
{
    public const string ConnectionsCode = "quota.connections";
    public const string StartRateCode = "quota.start_rate";
    public const string ConcurrentRunsCode = "quota.concurrent_runs";
    public const string MessageSizeCode = "quota.message_size";
    public const string SubscriptionsCode = "quota.subscriptions";
    public const string AdmissionCode = "admission";

    public static QuotaRejection Connections(int limit, int retryAfterSeconds) => new(ConnectionsCode, "connections", StatusCodes.Status429TooManyRequests,
        $"The tenant already has {limit} connections to this gateway, its limit; retry after {retryAfterSeconds} s.", retryAfterSeconds);

    public static QuotaRejection StartRate(TimeSpan retryAfter) => new(StartRateCode, "start_rate", StatusCodes.Status429TooManyRequests,
        $"Run start rate for tenant exceeded; retry after {Seconds(retryAfter)} s.", Seconds(retryAfter));

    public static QuotaRejection ConcurrentRuns(long running, int limit, int retryAfterSeconds) => new(ConcurrentRunsCode, "concurrent_runs",
        StatusCodes.Status429TooManyRequests,
        $"The tenant has {running} running runs and its limit is {limit}; retry after {retryAfterSeconds} s or when a run ends.", retryAfterSeconds);

    public static QuotaRejection MessageSize(long size, int limit) => new(MessageSizeCode, "message_size", StatusCodes.Status413PayloadTooLarge,
        size >= 0
            ? $"The message is {size} bytes; the tenant's limit is {limit} bytes."
            : $"The message is larger than the tenant's limit of {limit} bytes.", null);

    public static QuotaRejection Subscriptions(int limit) => new(SubscriptionsCode, "subscriptions", StatusCodes.Status429TooManyRequests,
        $"This connection already has {limit} active subscriptions, the tenant's limit; end one (or open another connection) first.", null);

    public static QuotaRejection Admission(TimeSpan retryAfter) => new(AdmissionCode, "admission", StatusCodes.Status503ServiceUnavailable,
        $"This gateway is admitting connections at its configured rate; retry after {Seconds(retryAfter)} s.", Seconds(retryAfter));

    public HubException ToHubException() => new($"[{Code}] {Message}");

    public Task WriteAsync(HttpContext http)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = Code };
        if (RetryAfterSeconds is { } retryAfter)
        {
            http.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            extensions["retryAfterSeconds"] = retryAfter;
        }
        var title = StatusCode == StatusCodes.Status503ServiceUnavailable ? "Admission limit reached." : "Quota exceeded.";
        return TypedResults.Problem(Message, statusCode: StatusCode, title: title, extensions: extensions).ExecuteAsync(http);
    }

    /// <summary>Whole seconds, rounded up, at least 1 (Retry-After has no fractions; 0 would invite an immediate retry).</summary>
    private static int Seconds(TimeSpan wait) => (int)Math.Max(1, Math.Ceiling(wait.TotalSeconds));
}
