using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Client;

internal static partial class ClientLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Stream of run {RunId} interrupted ({Reason}); resuming after {Cursor} in {Delay} (attempt {Attempt})")]
    public static partial void Resuming(ILogger logger, string runId, string reason, string cursor, TimeSpan delay, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId}: the gateway reset the stream (it could not resume from the cursor); the whole transcript follows")]
    public static partial void StreamReset(ILogger logger, string runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connecting to {Hub} failed ({Reason}); retrying in {Delay} (attempt {Attempt})")]
    public static partial void ConnectRetry(ILogger logger, Uri hub, string reason, TimeSpan delay, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {Operation} failed ({Reason}); retrying (same idempotency key) in {Delay} (attempt {Attempt})")]
    public static partial void RequestRetry(ILogger logger, string operation, string reason, TimeSpan delay, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Acknowledging {Cursor} of run {RunId} failed; the stream goes on (further ack failures of this stream are logged at Debug)")]
    public static partial void AckFailed(ILogger logger, Exception exception, string runId, string cursor);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Acknowledging {Cursor} of run {RunId} failed again: {Reason}")]
    public static partial void AckFailedAgain(ILogger logger, string runId, string cursor, string reason);
}
