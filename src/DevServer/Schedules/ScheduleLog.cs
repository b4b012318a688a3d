using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.DevServer.Schedules;

internal static partial class ScheduleLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {ScheduleId}: action failed")]
    public static partial void ActionFailed(ILogger logger, string scheduleId, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId}: action at {NominalTime} missed its catch-up window")]
    public static partial void MissedCatchupWindow(ILogger logger, string scheduleId, DateTimeOffset nominalTime);
}
