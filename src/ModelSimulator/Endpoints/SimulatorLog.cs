namespace AgentOrchestrator.ModelSimulator.Endpoints;

/// <summary>Source-generated log messages: no boxing or formatting unless the level is enabled.</summary>
internal static partial class SimulatorLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Response {Id} ended by host shutdown")]
    public static partial void EndedByShutdown(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Client went away before {Kind} response {Id} finished")]
    public static partial void ClientWentAway(ILogger logger, string kind, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulated cut: aborting response {Id} after {Tokens} tokens")]
    public static partial void Cut(ILogger logger, string id, int? tokens);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulated 500 for fail-first key {Key}, attempt {Attempt}")]
    public static partial void FailFirst(ILogger logger, string key, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulated {StatusCode}")]
    public static partial void InjectedStatus(ILogger logger, int statusCode);
}
