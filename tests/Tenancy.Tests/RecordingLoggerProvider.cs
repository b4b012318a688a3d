using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Tenancy.Tests;

/// <summary>Keeps every formatted log message of a host, so tests can wait for what the code reports.</summary>
public sealed class RecordingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Messages { get; } = new();

    public int Count(string fragment) => Messages.Count(m => m.Message.Contains(fragment, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Recorder(this);

    public void Dispose()
    {
    }

    private sealed class Recorder(RecordingLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Messages.Enqueue((logLevel, formatter(state, exception)));
            }
        }
    }
}
