using Temporalio.Api.Schedule.V1;

namespace AgentOrchestrator.DevServer.Calendars;

/// <summary>
/// The action times a ScheduleSpec produces: the union of its calendars, cron strings and intervals, minus its
/// exclusions, within start and end time. Calendars are evaluated in the spec's time zone (UTC when unset).
/// These are nominal times: a schedule's jitter is added by ScheduleService.
/// </summary>
internal sealed class ScheduleTimes
{
    private readonly List<CompiledCalendar> _calendars = [];
    private readonly List<CompiledCalendar> _excluded = [];
    private readonly List<(TimeSpan Every, TimeSpan Phase)> _intervals = [];
    private readonly TimeZoneInfo _zone;
    private readonly DateTimeOffset? _start;
    private readonly DateTimeOffset? _end;

    /// <summary>Throws <see cref="FormatException"/> naming what is wrong with the spec.</summary>
    public ScheduleTimes(ScheduleSpec spec)
    {
        _zone = string.IsNullOrEmpty(spec.TimezoneName) ? TimeZoneInfo.Utc
            : TimeZoneInfo.TryFindSystemTimeZoneById(spec.TimezoneName, out var zone) ? zone
            : throw new FormatException($"unknown time zone \"{spec.TimezoneName}\"");
        foreach (var calendar in spec.StructuredCalendar)
        {
            _calendars.Add(new CompiledCalendar(calendar));
        }
        foreach (var calendar in spec.Calendar)
        {
            _calendars.Add(new CompiledCalendar(CronParser.Parse(calendar)));
        }
        foreach (var cron in spec.CronString)
        {
            _calendars.Add(new CompiledCalendar(CronParser.Parse(cron)));
        }
        foreach (var calendar in spec.ExcludeStructuredCalendar)
        {
            _excluded.Add(new CompiledCalendar(calendar));
        }
        foreach (var calendar in spec.ExcludeCalendar)
        {
            _excluded.Add(new CompiledCalendar(CronParser.Parse(calendar)));
        }
        foreach (var interval in spec.Interval)
        {
            var every = interval.Interval?.ToTimeSpan() ?? TimeSpan.Zero;
            if (every < TimeSpan.FromSeconds(1))
            {
                throw new FormatException("an interval must be at least one second");
            }
            _intervals.Add((every, interval.Phase?.ToTimeSpan() ?? TimeSpan.Zero));
        }
        _start = spec.StartTime?.ToDateTimeOffset();
        _end = spec.EndTime?.ToDateTimeOffset();
    }

    /// <summary>The spec's canonical form, as Temporal returns it from Describe: cron strings and string calendars become structured calendars.</summary>
    public static ScheduleSpec Canonical(ScheduleSpec spec)
    {
        var canonical = spec.Clone();
        canonical.CronString.Clear();
        canonical.Calendar.Clear();
        canonical.ExcludeCalendar.Clear();
        foreach (var calendar in spec.Calendar)
        {
            canonical.StructuredCalendar.Add(CronParser.Parse(calendar));
        }
        foreach (var cron in spec.CronString)
        {
            canonical.StructuredCalendar.Add(CronParser.Parse(cron));
        }
        foreach (var calendar in spec.ExcludeCalendar)
        {
            canonical.ExcludeStructuredCalendar.Add(CronParser.Parse(calendar));
        }
        return canonical;
    }

    /// <summary>The first action time strictly after <paramref name="after"/>, or null when there is none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after)
    {
        if (_start is { } start && after < start)
        {
            after = start - TimeSpan.FromTicks(TimeSpan.TicksPerSecond);
        }
        var cursor = after;
        // Exclusions can reject candidates; each rejection moves past the candidate.
        for (var attempts = 0; attempts < 10_000; attempts++)
        {
            var candidate = Earliest(cursor);
            if (candidate is null || (_end is { } end && candidate > end))
            {
                return null;
            }
            if (!IsExcluded(candidate.Value))
            {
                return candidate;
            }
            cursor = candidate.Value;
        }
        return null;
    }

    private DateTimeOffset? Earliest(DateTimeOffset after)
    {
        DateTimeOffset? best = null;
        if (_calendars.Count > 0)
        {
            var local = TimeZoneInfo.ConvertTime(after, _zone).DateTime;
            foreach (var calendar in _calendars)
            {
                var next = NextValidLocal(calendar, local);
                if (next is { } n && (best is null || n < best))
                {
                    best = n;
                }
            }
        }
        foreach (var (every, phase) in _intervals)
        {
            // Interval times are epoch + phase + k * every, independent of the time zone.
            var sinceEpoch = after.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks - phase.Ticks;
            var k = sinceEpoch < 0 ? 0 : (sinceEpoch / every.Ticks) + 1;
            var next = new DateTimeOffset(DateTimeOffset.UnixEpoch.UtcTicks + phase.Ticks + (k * every.Ticks), TimeSpan.Zero);
            if (best is null || next < best)
            {
                best = next;
            }
        }
        return best;
    }

    /// <summary>Skips local times that do not exist (the hour a daylight-saving change leaves out).</summary>
    private DateTimeOffset? NextValidLocal(CompiledCalendar calendar, DateTime local)
    {
        for (var i = 0; i < 64; i++)
        {
            if (calendar.Next(local) is not { } next)
            {
                return null;
            }
            if (!_zone.IsInvalidTime(next))
            {
                return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(next, DateTimeKind.Unspecified), _zone), TimeSpan.Zero);
            }
            local = next;
        }
        return null;
    }

    private bool IsExcluded(DateTimeOffset time)
    {
        if (_excluded.Count == 0)
        {
            return false;
        }
        var local = TimeZoneInfo.ConvertTime(time, _zone).DateTime;
        var justBefore = local.AddTicks(-1);
        foreach (var calendar in _excluded)
        {
            if (calendar.Next(justBefore) is { } match && match == local)
            {
                return true;
            }
        }
        return false;
    }
}
