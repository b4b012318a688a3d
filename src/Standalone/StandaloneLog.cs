namespace AgentOrchestrator.Standalone;

internal static partial class StandaloneLog
{
    [LoggerMessage(Level = LogLevel.Information,
        Message = "Data directory {DataDirectory}: workflows, runs and transcripts, threads, pending input, idempotency keys, tenant policy overrides and the dev-token key survive a restart")]
    public static partial void Durable(ILogger logger, string dataDirectory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ephemeral mode (--ephemeral): everything is kept in memory and lost when the process stops")]
    public static partial void Ephemeral(ILogger logger);
}
