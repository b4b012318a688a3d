namespace AgentOrchestrator.DevServer.Schedules;

/// <summary>A schedule request that cannot be served; the gRPC layer maps <see cref="Kind"/> to a status code.</summary>
internal sealed class ScheduleException(ScheduleErrorKind kind, string message) : Exception(message)
{
    public ScheduleErrorKind Kind { get; } = kind;
}

internal enum ScheduleErrorKind
{
    InvalidArgument,
    NotFound,
    AlreadyExists,
    ConflictTokenMismatch,
}
