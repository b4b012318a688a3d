using System.Net;

namespace AgentOrchestrator.Client;

/// <summary>The error codes the gateway uses (REST problem+json "code", hub messages "[code] ...").</summary>
public static class ErrorCodes
{
    /// <summary>No such run for the caller's tenant (also another tenant's run).</summary>
    public const string RunNotFound = "run_not_found";

    /// <summary>The request was malformed or failed validation.</summary>
    public const string InvalidRequest = "invalid_request";

    /// <summary>The run refused an answer to an input request (wrong schema, unknown or closed request); nothing changed.</summary>
    public const string InvalidInput = "invalid_input";

    /// <summary>The run has already finished and can no longer be changed (answered, canceled).</summary>
    public const string RunFinished = "run_finished";

    /// <summary>Missing, invalid or expired credentials.</summary>
    public const string Unauthorized = "unauthorized";

    /// <summary>The subscription was ended for falling behind; the client resumes from its cursor.</summary>
    public const string SlowConsumer = "slow_consumer";

    /// <summary>The gateway node is admitting connections more slowly (reconnect storm); retry after the delay it gives.</summary>
    public const string Admission = "admission";

    /// <summary>The gateway could not be reached or could not serve the request for now.</summary>
    public const string Unavailable = "unavailable";

    /// <summary>The prefix of per-tenant quota codes (quota.connections, quota.start_rate, ...).</summary>
    public const string QuotaPrefix = "quota.";

    /// <summary>A code the gateway sent that this client version does not know, or none at all.</summary>
    public const string Unknown = "unknown";
}

/// <summary>An error the gateway reported (or the client concluded), with the gateway's error code.</summary>
public class AgentOrchestratorException : Exception
{
    /// <summary>An error with code <see cref="ErrorCodes.Unknown"/>.</summary>
    public AgentOrchestratorException()
        : this(ErrorCodes.Unknown, "The gateway reported an error.")
    {
    }

    /// <summary>An error with code <see cref="ErrorCodes.Unknown"/>.</summary>
    public AgentOrchestratorException(string message)
        : this(ErrorCodes.Unknown, message)
    {
    }

    /// <summary>An error with code <see cref="ErrorCodes.Unknown"/> caused by <paramref name="innerException"/>.</summary>
    public AgentOrchestratorException(string message, Exception innerException)
        : this(ErrorCodes.Unknown, message, null, innerException)
    {
    }

    /// <summary>An error with the gateway's <paramref name="code"/>.</summary>
    public AgentOrchestratorException(string code, string message, HttpStatusCode? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        StatusCode = statusCode;
    }

    /// <summary>The gateway's error code (see <see cref="ErrorCodes"/>).</summary>
    public string Code { get; }

    /// <summary>The HTTP status of a REST or connection error; null for hub errors.</summary>
    public HttpStatusCode? StatusCode { get; }
}

/// <summary>The run does not exist for the caller's tenant (another tenant's run looks the same).</summary>
public sealed class RunNotFoundException : AgentOrchestratorException
{
    /// <summary>A run-not-found error without a run id.</summary>
    public RunNotFoundException()
        : this(null, "Run not found.")
    {
    }

    /// <summary>A run-not-found error without a run id.</summary>
    public RunNotFoundException(string message)
        : this(null, message)
    {
    }

    /// <summary>A run-not-found error without a run id, caused by <paramref name="innerException"/>.</summary>
    public RunNotFoundException(string message, Exception innerException)
        : this(null, message, null, innerException)
    {
    }

    /// <summary>Run <paramref name="runId"/> was not found.</summary>
    public RunNotFoundException(string? runId, string message, HttpStatusCode? statusCode = null, Exception? innerException = null)
        : base(ErrorCodes.RunNotFound, message, statusCode, innerException)
    {
        RunId = runId;
    }

    /// <summary>The run id asked for, when known.</summary>
    public string? RunId { get; }
}

/// <summary>A tenant quota or the node's admission rate refused the request; nothing was started or opened.</summary>
public sealed class QuotaExceededException : AgentOrchestratorException
{
    /// <summary>A quota error with code "quota".</summary>
    public QuotaExceededException()
        : this("quota", "A quota was exceeded.", null)
    {
    }

    /// <summary>A quota error with code "quota".</summary>
    public QuotaExceededException(string message)
        : this("quota", message, null)
    {
    }

    /// <summary>A quota error with code "quota", caused by <paramref name="innerException"/>.</summary>
    public QuotaExceededException(string message, Exception innerException)
        : this("quota", message, null, null, innerException)
    {
    }

    /// <summary>Quota <paramref name="code"/> (e.g. quota.start_rate) refused the request.</summary>
    public QuotaExceededException(string code, string message, TimeSpan? retryAfter, HttpStatusCode? statusCode = null, Exception? innerException = null)
        : base(code, message, statusCode, innerException)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>How long the gateway asked the caller to wait before trying again, if it said.</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>The gateway rejected the credentials (401): a missing, forged, expired or wrong-key token, or an unknown API key.</summary>
public sealed class AuthenticationFailedException : AgentOrchestratorException
{
    /// <summary>An authentication failure.</summary>
    public AuthenticationFailedException()
        : this("The gateway rejected the credentials.")
    {
    }

    /// <summary>An authentication failure.</summary>
    public AuthenticationFailedException(string message)
        : base(ErrorCodes.Unauthorized, message, HttpStatusCode.Unauthorized)
    {
    }

    /// <summary>An authentication failure caused by <paramref name="innerException"/>.</summary>
    public AuthenticationFailedException(string message, Exception innerException)
        : base(ErrorCodes.Unauthorized, message, HttpStatusCode.Unauthorized, innerException)
    {
    }
}

/// <summary>The gateway refused the request as invalid (unknown flow, empty or oversized input, ...); nothing was started.</summary>
public sealed class InvalidRequestException : AgentOrchestratorException
{
    /// <summary>An invalid-request error.</summary>
    public InvalidRequestException()
        : this("The request is invalid.")
    {
    }

    /// <summary>An invalid-request error.</summary>
    public InvalidRequestException(string message)
        : base(ErrorCodes.InvalidRequest, message)
    {
    }

    /// <summary>An invalid-request error caused by <paramref name="innerException"/>.</summary>
    public InvalidRequestException(string message, Exception innerException)
        : base(ErrorCodes.InvalidRequest, message, null, innerException)
    {
    }

    /// <summary>An invalid-request error with its HTTP status.</summary>
    public InvalidRequestException(string message, HttpStatusCode? statusCode)
        : base(ErrorCodes.InvalidRequest, message, statusCode)
    {
    }
}

/// <summary>
/// The run refused an answer to one of its input requests: it does not match the request's schema, or the request
/// is unknown, already answered or timed out. Nothing changed; the run keeps waiting for a valid answer.
/// </summary>
public sealed class InputRejectedException : AgentOrchestratorException
{
    /// <summary>A rejected answer.</summary>
    public InputRejectedException()
        : this("The run rejected the answer.")
    {
    }

    /// <summary>A rejected answer.</summary>
    public InputRejectedException(string message)
        : base(ErrorCodes.InvalidInput, message)
    {
    }

    /// <summary>A rejected answer caused by <paramref name="innerException"/>.</summary>
    public InputRejectedException(string message, Exception innerException)
        : base(ErrorCodes.InvalidInput, message, null, innerException)
    {
    }

    /// <summary>A rejected answer with its HTTP status.</summary>
    public InputRejectedException(string message, HttpStatusCode? statusCode)
        : base(ErrorCodes.InvalidInput, message, statusCode)
    {
    }
}

/// <summary>The run has already finished (completed, failed or canceled): it can no longer be answered or canceled.</summary>
public sealed class RunFinishedException : AgentOrchestratorException
{
    /// <summary>A run-finished error.</summary>
    public RunFinishedException()
        : this("The run has already finished.")
    {
    }

    /// <summary>A run-finished error.</summary>
    public RunFinishedException(string message)
        : base(ErrorCodes.RunFinished, message)
    {
    }

    /// <summary>A run-finished error caused by <paramref name="innerException"/>.</summary>
    public RunFinishedException(string message, Exception innerException)
        : base(ErrorCodes.RunFinished, message, null, innerException)
    {
    }

    /// <summary>A run-finished error with its HTTP status.</summary>
    public RunFinishedException(string message, HttpStatusCode? statusCode)
        : base(ErrorCodes.RunFinished, message, statusCode)
    {
    }
}
