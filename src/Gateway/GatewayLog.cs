using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Gateway;

internal static partial class GatewayLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Temporal: {Target}, namespace {Namespace}")]
    public static partial void TemporalTarget(ILogger logger, string target, string @namespace);

    [LoggerMessage(Level = LogLevel.Information, Message = "Auth: dev tokens {DevTokens}; signing key {KeySource}; authority {Authority}")]
    public static partial void AuthChoice(ILogger logger, string devTokens, string keySource, string authority);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Auth: no Auth:SigningKey configured; tokens are signed with a random key made for this process only (development only: other processes will reject them)")]
    public static partial void GeneratedSigningKey(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Started run {RunId} of flow {Flow} for {Subject}")]
    public static partial void RunStarted(ILogger logger, string runId, string flow, string subject);

    [LoggerMessage(Level = LogLevel.Information, Message = "Idempotent repeat of run {RunId} of flow {Flow}: nothing started")]
    public static partial void RunRepeated(ILogger logger, string runId, string flow);
}
