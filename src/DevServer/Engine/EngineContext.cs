using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>What every engine part shares: options, the clock and its timers, logging and metrics.</summary>
internal sealed class EngineContext(DevServerOptions options, TimeProvider time, ILogger logger, DevServerMetrics metrics)
{
    public DevServerOptions Options { get; } = options;

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;

    public DevServerMetrics Metrics { get; } = metrics;

    public DateTimeOffset Now => Time.GetUtcNow();

    public HistoryEvent NewEvent(EventType type) => new() { EventType = type, EventTime = Timestamp.FromDateTimeOffset(Now) };

    /// <summary>Runs cross-workflow work after the current lock is released.</summary>
    public static void Defer(Action action) => ThreadPool.UnsafeQueueUserWorkItem(static a => a(), action, preferLocal: false);

    /// <summary>Timers always call back on the thread pool, never inline under a lock.</summary>
    public ITimer StartTimer(TimeSpan due, Action callback)
    {
        if (due < TimeSpan.Zero)
        {
            due = TimeSpan.Zero;
        }
        return Time.CreateTimer(static s => Defer((Action)s!), callback, due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A timer due at a point in time (one already past fires at once).</summary>
    public ITimer StartTimerAt(DateTime dueUtc, Action callback) => StartTimer(dueUtc - Now.UtcDateTime, callback);
}
