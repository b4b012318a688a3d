using System.Net;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Client;

/// <summary>Connecting with backoff, the same for every transport: auth failures are final, busy or unreachable gateways are retried.</summary>
internal static class ConnectBackoff
{
    /// <summary>One connection attempt's result: the connection, or why not (the HTTP status and Retry-After when the gateway answered).</summary>
    internal readonly record struct Attempt<T>(T? Connection, Exception? Failure, HttpStatusCode? Status, TimeSpan? RetryAfter);

    public static async Task<T> ConnectAsync<T>(Uri address, ReconnectPolicy policy, ILogger logger,
        Func<CancellationToken, Task<Attempt<T>>> attempt, CancellationToken cancellationToken)
        where T : class
    {
        for (var number = 1; ; number++)
        {
            var result = await attempt(cancellationToken);
            if (result.Connection is { } connection)
            {
                return connection;
            }
            var failure = result.Failure!;
            if (result.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new AuthenticationFailedException($"The gateway rejected the credentials for {address} ({(int)result.Status}).", failure);
            }
            if (!policy.CanRetry(number))
            {
                throw result.Status == HttpStatusCode.TooManyRequests
                    ? new QuotaExceededException(ErrorCodes.Admission, $"The gateway kept refusing connections ({failure.Message}).", result.RetryAfter, result.Status, failure)
                    : new AgentOrchestratorException(ErrorCodes.Unavailable, $"Could not connect to {address} after {number} attempts: {failure.Message}", result.Status, failure);
            }
            var delay = policy.DelayFor(number, result.RetryAfter);
            ClientLog.ConnectRetry(logger, address, failure.Message, delay, number);
            await Task.Delay(delay, cancellationToken);
        }
    }
}
