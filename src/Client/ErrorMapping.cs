using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AgentOrchestrator.Client;

/// <summary>Turns the gateway's errors (REST problem+json, hub "[code] message") into the client's typed exceptions.</summary>
internal static partial class ErrorMapping
{
    /// <summary>
    /// Gateways before typed hub errors said only this for an unknown run; kept so the client types the error the
    /// same way against either.
    /// </summary>
    private const string UntypedRunNotFound = "run not found";

    /// <summary>From a failed REST response: the problem's "code" extension first, then its HTTP status.</summary>
    public static async Task<AgentOrchestratorException> FromResponseAsync(HttpResponseMessage response, string? runId, CancellationToken cancellationToken)
    {
        var status = response.StatusCode;
        string? code = null;
        string? message = null;
        TimeSpan? retryAfter = RetryAfterOf(response);
        if (response.Content.Headers.ContentType?.MediaType is { } mediaType && mediaType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                using var problem = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), default, cancellationToken);
                if (problem.RootElement.ValueKind == JsonValueKind.Object)
                {
                    code = StringProperty(problem.RootElement, "code");
                    message = StringProperty(problem.RootElement, "detail") ?? StringProperty(problem.RootElement, "title");
                    if (retryAfter is null && problem.RootElement.TryGetProperty("retryAfterSeconds", out var seconds) && seconds.TryGetDouble(out var value))
                    {
                        retryAfter = TimeSpan.FromSeconds(value);
                    }
                }
            }
            catch (JsonException)
            {
                // Not a problem document after all: the status alone decides below.
            }
        }
        message ??= $"The gateway answered {(int)status} {response.ReasonPhrase}.";
        code ??= status switch
        {
            HttpStatusCode.Unauthorized => ErrorCodes.Unauthorized,
            HttpStatusCode.NotFound when runId is not null => ErrorCodes.RunNotFound,
            HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge => ErrorCodes.InvalidRequest,
            HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout => ErrorCodes.Unavailable,
            _ => ErrorCodes.Unknown,
        };
        return FromCode(code, message, status, retryAfter, runId, null);
    }

    /// <summary>From a hub error: "[code] message" anywhere in it (SignalR may wrap the server's text).</summary>
    public static AgentOrchestratorException FromHubMessage(string hubMessage, string? runId, Exception? innerException)
    {
        var match = HubCodePattern().Match(hubMessage);
        if (match.Success)
        {
            var message = match.Groups["message"].Value;
            var retry = RetryAfterInText().Match(message);
            TimeSpan? retryAfter = retry.Success ? TimeSpan.FromSeconds(double.Parse(retry.Groups["seconds"].Value, CultureInfo.InvariantCulture)) : null;
            return FromCode(match.Groups["code"].Value, message, null, retryAfter, runId, innerException);
        }
        if (hubMessage.Contains(UntypedRunNotFound, StringComparison.Ordinal))
        {
            return new RunNotFoundException(runId, hubMessage, null, innerException);
        }
        return new AgentOrchestratorException(ErrorCodes.Unknown, hubMessage, null, innerException);
    }

    public static AgentOrchestratorException FromCode(string code, string message, HttpStatusCode? status, TimeSpan? retryAfter, string? runId,
        Exception? innerException) => code switch
        {
            ErrorCodes.RunNotFound => new RunNotFoundException(runId, message, status, innerException),
            ErrorCodes.Unauthorized => innerException is null ? new AuthenticationFailedException(message) : new AuthenticationFailedException(message, innerException),
            ErrorCodes.InvalidRequest => new InvalidRequestException(message, status),
            ErrorCodes.InvalidInput => new InputRejectedException(message, status),
            ErrorCodes.RunFinished => new RunFinishedException(message, status),
            ErrorCodes.Admission => new QuotaExceededException(code, message, retryAfter, status, innerException),
            _ when code.StartsWith(ErrorCodes.QuotaPrefix, StringComparison.Ordinal) => new QuotaExceededException(code, message, retryAfter, status, innerException),
            _ => new AgentOrchestratorException(code, message, status, innerException),
        };

    /// <summary>Worth retrying with the same request (the node is busy or briefly unreachable), as opposed to a quota or a bad request.</summary>
    public static bool IsTransient(AgentOrchestratorException error) =>
        error.Code is ErrorCodes.Admission or ErrorCodes.Unavailable;

    public static TimeSpan? RetryAfterOf(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is { Ticks: > 0 } wait ? wait : TimeSpan.Zero,
        _ => null,
    };

    private static string? StringProperty(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    [GeneratedRegex(@"\[(?<code>[a-z_]+(\.[a-z_]+)*)\]\s*(?<message>.*)", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex HubCodePattern();

    [GeneratedRegex(@"retry after (?<seconds>\d+(\.\d+)?) ?s", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RetryAfterInText();
}
