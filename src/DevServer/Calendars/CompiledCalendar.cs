using Temporalio.Api.Schedule.V1;

namespace AgentOrchestrator.DevServer.Calendars;

/// <summary>
/// A structured calendar as sets of allowed values, evaluated in the schedule's time zone. An empty field takes
/// Temporal's default: second, minute and hour 0; every day, month, weekday and year.
/// </summary>
internal sealed class CompiledCalendar
{
    /// <summary>How far ahead a search for the next match looks before giving up (a calendar may never match again).</summary>
    private const int MaxDaysAhead = 366 * 10;

    private readonly bool[] _seconds = new bool[60];
    private readonly bool[] _minutes = new bool[60];
    private readonly bool[] _hours = new bool[24];
    private readonly bool[] _daysOfMonth = new bool[32];
    private readonly bool[] _months = new bool[13];
    private readonly bool[] _daysOfWeek = new bool[7];
    private readonly List<(int Start, int End, int Step)> _years = [];

    public CompiledCalendar(StructuredCalendarSpec spec)
    {
        Fill(_seconds, spec.Second, 0, 0);
        Fill(_minutes, spec.Minute, 0, 0);
        Fill(_hours, spec.Hour, 0, 0);
        Fill(_daysOfMonth, spec.DayOfMonth, 1, 31);
        Fill(_months, spec.Month, 1, 12);
        if (spec.DayOfWeek.Count == 0)
        {
            Array.Fill(_daysOfWeek, true);
        }
        foreach (var r in spec.DayOfWeek)
        {
            foreach (var day in Values(r))
            {
                _daysOfWeek[day % 7] = true; // 7 is Sunday too
            }
        }
        foreach (var r in spec.Year)
        {
            _years.Add((r.Start, Math.Max(r.End, r.Start), Math.Max(r.Step, 1)));
        }
    }

    /// <summary>The first local time strictly after <paramref name="after"/> that matches, or null within the search horizon.</summary>
    public DateTime? Next(DateTime after)
    {
        var day = after.Date;
        for (var i = 0; i < MaxDaysAhead; i++, day = day.AddDays(1))
        {
            if (!DayMatches(day))
            {
                continue;
            }
            var floor = i == 0 ? after.TimeOfDay : TimeSpan.MinValue;
            for (var h = 0; h < 24; h++)
            {
                if (!_hours[h] || (i == 0 && h < after.Hour))
                {
                    continue;
                }
                for (var m = 0; m < 60; m++)
                {
                    if (!_minutes[m] || (i == 0 && h == after.Hour && m < after.Minute))
                    {
                        continue;
                    }
                    for (var s = 0; s < 60; s++)
                    {
                        if (_seconds[s] && new TimeSpan(h, m, s) > floor)
                        {
                            return day.Add(new TimeSpan(h, m, s));
                        }
                    }
                }
            }
        }
        return null;
    }

    private bool DayMatches(DateTime day) =>
        _daysOfMonth[day.Day] && _months[day.Month] && _daysOfWeek[(int)day.DayOfWeek] && YearMatches(day.Year);

    private bool YearMatches(int year)
    {
        if (_years.Count == 0)
        {
            return true;
        }
        foreach (var (start, end, step) in _years)
        {
            if (year >= start && year <= end && (year - start) % step == 0)
            {
                return true;
            }
        }
        return false;
    }

    private static void Fill(bool[] allowed, IEnumerable<Temporalio.Api.Schedule.V1.Range> ranges, int defaultStart, int defaultEnd)
    {
        var any = false;
        foreach (var r in ranges)
        {
            any = true;
            foreach (var value in Values(r))
            {
                if (value >= 0 && value < allowed.Length)
                {
                    allowed[value] = true;
                }
            }
        }
        if (!any)
        {
            for (var v = defaultStart; v <= defaultEnd; v++)
            {
                allowed[v] = true;
            }
        }
    }

    private static IEnumerable<int> Values(Temporalio.Api.Schedule.V1.Range r)
    {
        var end = Math.Max(r.End, r.Start);
        var step = Math.Max(r.Step, 1);
        for (var v = r.Start; v <= end; v += step)
        {
            yield return v;
        }
    }
}
