using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.DevServer.Engine.Storage;

internal static partial class StoreLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Dev server storage: {Store}")]
    public static partial void Using(ILogger logger, string store);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dev server restored {Runs} runs ({OpenRuns} open) and {Namespaces} namespaces from storage in {ElapsedMs} ms")]
    public static partial void Restored(ILogger logger, int runs, int openRuns, int namespaces, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Dev server could not write its database {Path}: calls now fail until it is restarted")]
    public static partial void WriteFailed(ILogger logger, Exception error, string path);
}
