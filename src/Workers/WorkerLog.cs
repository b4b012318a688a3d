namespace AgentOrchestrator.Workers;

internal static partial class WorkerLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Model: {Provider} at {Endpoint}, default model {Model}")]
    public static partial void ModelEndpoint(ILogger logger, ModelProvider provider, string endpoint, string model);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Temporal worker: {Target}, namespace {Namespace}, task queue {TaskQueue}, heartbeat every {HeartbeatInterval}, workflow task tracing {WorkflowTaskTracing}")]
    public static partial void TemporalWorker(ILogger logger, string target, string @namespace, string taskQueue, TimeSpan heartbeatInterval, string workflowTaskTracing);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Token batching: a delta goes out when no publish is in flight (at most one message per {MinInterval}), else at {MaxChars} chars or {FlushInterval} of waiting, at most {MaxPublishesInFlight} in flight")]
    public static partial void TokenBatching(ILogger logger, TimeSpan minInterval, int maxChars, TimeSpan flushInterval, int maxPublishesInFlight);

    // Per step and per run event: Debug, so a busy worker writes no line per run by default (Serilog:MinimumLevel:Override).
    [LoggerMessage(Level = LogLevel.Debug, Message = "Step {Agent} attempt {Attempt} started on model {Model}")]
    public static partial void StepStarted(ILogger logger, string agent, int attempt, string model);

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "Step {Agent} attempt {Attempt} completed: {Chars} chars in {Batches} token messages, {CompletionTokens} completion tokens")]
    public static partial void StepCompleted(ILogger logger, string agent, int attempt, int chars, long batches, int completionTokens);

    [LoggerMessage(Level = LogLevel.Information, Message = "Step {Agent} attempt {Attempt} canceled; model stream stopped")]
    public static partial void StepCanceled(ILogger logger, string agent, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Step {Agent} attempt {Attempt} failed")]
    public static partial void StepFailed(ILogger logger, Exception exception, string agent, int attempt);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Token delta {Index}: {Chars} chars")]
    public static partial void TokenDeltaPublished(ILogger logger, long index, int chars);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Run event {Type} published")]
    public static partial void RunEventPublished(ILogger logger, string type);
}
