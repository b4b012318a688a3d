using System.Globalization;
using Temporalio.Api.Schedule.V1;

namespace AgentOrchestrator.DevServer.Calendars;

/// <summary>
/// Turns cron strings ("m h dom mon dow", with ranges, steps, lists, month and weekday names, and the @hourly-style
/// macros) and the string fields of a CalendarSpec into structured calendars, as Temporal does when a schedule is
/// created. Fields must all match (a day restricted by both day of month and weekday needs both).
/// </summary>
internal static class CronParser
{
    private static readonly string[] s_months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] s_days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    /// <summary>Throws <see cref="FormatException"/> with the reason when the string is not a cron expression.</summary>
    public static StructuredCalendarSpec Parse(string cron)
    {
        var text = cron.Trim();
        string? comment = null;
        var hash = text.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
        {
            comment = text[(hash + 1)..].Trim();
            text = text[..hash].Trim();
        }
        text = text switch
        {
            "@yearly" or "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" or "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            _ => text,
        };
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is not (5 or 6 or 7))
        {
            throw new FormatException($"cron expression \"{cron}\" needs 5 fields (minute hour day-of-month month day-of-week), 6 with seconds or 7 with years");
        }
        // 6 fields: seconds first; 7 fields: seconds first and years last.
        var offset = fields.Length >= 6 ? 1 : 0;
        var spec = new StructuredCalendarSpec { Comment = comment ?? string.Empty };
        spec.Second.Add(offset == 1 ? Field(fields[0], 0, 59, null, "second") : [new Temporalio.Api.Schedule.V1.Range { Start = 0 }]);
        spec.Minute.Add(Field(fields[offset], 0, 59, null, "minute"));
        spec.Hour.Add(Field(fields[offset + 1], 0, 23, null, "hour"));
        spec.DayOfMonth.Add(Field(fields[offset + 2], 1, 31, null, "day of month"));
        spec.Month.Add(Field(fields[offset + 3], 1, 12, s_months, "month"));
        spec.DayOfWeek.Add(Field(fields[offset + 4], 0, 7, s_days, "day of week"));
        if (fields.Length == 7)
        {
            spec.Year.Add(Field(fields[6], 1970, 9999, null, "year"));
        }
        return spec;
    }

    /// <summary>A CalendarSpec (every field a cron-style string; empty means Temporal's default) as a structured calendar.</summary>
    public static StructuredCalendarSpec Parse(CalendarSpec calendar)
    {
        var spec = new StructuredCalendarSpec { Comment = calendar.Comment };
        spec.Second.Add(Field(Or(calendar.Second, "0"), 0, 59, null, "second"));
        spec.Minute.Add(Field(Or(calendar.Minute, "0"), 0, 59, null, "minute"));
        spec.Hour.Add(Field(Or(calendar.Hour, "0"), 0, 23, null, "hour"));
        spec.DayOfMonth.Add(Field(Or(calendar.DayOfMonth, "*"), 1, 31, null, "day of month"));
        spec.Month.Add(Field(Or(calendar.Month, "*"), 1, 12, s_months, "month"));
        spec.DayOfWeek.Add(Field(Or(calendar.DayOfWeek, "*"), 0, 7, s_days, "day of week"));
        if (!string.IsNullOrEmpty(calendar.Year) && calendar.Year != "*")
        {
            spec.Year.Add(Field(calendar.Year, 1970, 9999, null, "year"));
        }
        return spec;
    }

    private static string Or(string value, string fallback) => string.IsNullOrWhiteSpace(value) ? fallback : value;

    private static List<Temporalio.Api.Schedule.V1.Range> Field(string field, int min, int max, string[]? names, string what)
    {
        var ranges = new List<Temporalio.Api.Schedule.V1.Range>();
        foreach (var part in field.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var step = 1;
            var body = part;
            var slash = part.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                step = Number(part[(slash + 1)..], 1, max, null, what, field);
                body = part[..slash];
            }
            int start, end;
            if (body is "*" or "?")
            {
                (start, end) = (min, max);
            }
            else if (body.IndexOf('-', StringComparison.Ordinal) is var dash and > 0)
            {
                start = Number(body[..dash], min, max, names, what, field);
                end = Number(body[(dash + 1)..], min, max, names, what, field);
            }
            else
            {
                start = Number(body, min, max, names, what, field);
                end = slash >= 0 ? max : start;
            }
            if (end < start)
            {
                throw new FormatException($"{what} range \"{part}\" in \"{field}\" ends before it starts");
            }
            ranges.Add(new Temporalio.Api.Schedule.V1.Range { Start = start, End = end, Step = step });
        }
        return ranges.Count > 0 ? ranges : throw new FormatException($"empty {what} field");
    }

    private static int Number(string text, int min, int max, string[]? names, string what, string field)
    {
        if (names is not null)
        {
            var index = Array.FindIndex(names, n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
            if (index >= 0)
            {
                return index + (min == 0 ? 0 : 1);
            }
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new FormatException($"{what} \"{text}\" in \"{field}\" is not a number from {min} to {max}");
    }
}
