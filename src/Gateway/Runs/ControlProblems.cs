using Microsoft.AspNetCore.Http;

namespace AgentOrchestrator.Gateway.Runs;

/// <summary>
/// The typed errors of run control and threads: RFC 7807 problems with a "code" extension over REST, and the same
/// code as a "[code] " prefix of a HubException message over the hub.
/// </summary>
internal static class ControlProblems
{
    public const string RunNotFoundCode = "run_not_found";
    public const string RunFinishedCode = "run_finished";
    public const string InvalidInputCode = "invalid_input";
    public const string InvalidRequestCode = "invalid_request";
    public const string TurnFailedCode = "turn_failed";
    public const string UnavailableCode = "unavailable";

    public const string RunNotFoundDetail = "No run with this id exists for your tenant.";
    public const string RunFinishedDetail = "The run has already finished; it can no longer be changed.";

    /// <summary>The same answer for an unknown run and for another tenant's run: callers never learn which.</summary>
    public static IResult RunNotFound() => Problem(StatusCodes.Status404NotFound, RunNotFoundCode, "Run not found.", RunNotFoundDetail);

    public static IResult RunFinished() => Problem(StatusCodes.Status409Conflict, RunFinishedCode, "Run finished.", RunFinishedDetail);

    public static IResult InvalidInput(string detail) =>
        Problem(StatusCodes.Status400BadRequest, InvalidInputCode, "The input was rejected.", detail);

    public static IResult InvalidRequest(string detail) =>
        Problem(StatusCodes.Status400BadRequest, InvalidRequestCode, "The request is invalid.", detail);

    public static IResult Unavailable() =>
        Problem(StatusCodes.Status503ServiceUnavailable, UnavailableCode, "Runs are temporarily unavailable.",
            "The orchestration service cannot be reached; retry later.");

    public static IResult Problem(int status, string code, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = code });

    /// <summary>A hub error message: "[code] detail".</summary>
    public static string HubMessage(string code, string detail) => $"[{code}] {detail}";
}
