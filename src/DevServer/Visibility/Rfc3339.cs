namespace AgentOrchestrator.DevServer.Visibility;

/// <summary>
/// Strict RFC 3339 parsing (what Temporal accepts for datetime values). DateTime.TryParse is avoided on
/// purpose: it accepts many non-RFC shapes and silently assumes local time when the offset is missing.
/// </summary>
internal static class Rfc3339
{
    /// <summary>Parses <c>yyyy-MM-ddTHH:mm:ss[.fraction](Z|±hh:mm)</c> into UTC ticks.</summary>
    /// <remarks>Digits beyond 100 ns (the DateTime tick) are truncated; leap seconds are rejected.</remarks>
    public static bool TryParseUtcTicks(ReadOnlySpan<char> s, out long utcTicks)
    {
        utcTicks = 0;
        if (s.Length < 20
            || !TryDigits(s, 0, 4, out int year) || s[4] != '-'
            || !TryDigits(s, 5, 2, out int month) || s[7] != '-'
            || !TryDigits(s, 8, 2, out int day)
            || s[10] is not ('T' or 't' or ' ')
            || !TryDigits(s, 11, 2, out int hour) || s[13] != ':'
            || !TryDigits(s, 14, 2, out int minute) || s[16] != ':'
            || !TryDigits(s, 17, 2, out int second))
        {
            return false;
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        int i = 19;
        long fractionTicks = 0;
        if (s[i] == '.')
        {
            i++;
            int start = i;
            long scale = TimeSpan.TicksPerSecond;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                // After the 7th digit the scale reaches 0, which truncates sub-tick precision.
                scale /= 10;
                fractionTicks += (s[i] - '0') * scale;
                i++;
            }

            if (i == start)
            {
                return false;
            }
        }

        if (i >= s.Length)
        {
            return false; // RFC 3339 requires an explicit offset; guessing one would shift instants.
        }

        long offsetTicks = 0;
        char designator = s[i];
        if (designator is 'Z' or 'z')
        {
            i++;
        }
        else if (designator is '+' or '-')
        {
            if (s.Length - i != 6
                || !TryDigits(s, i + 1, 2, out int offsetHours) || s[i + 3] != ':'
                || !TryDigits(s, i + 4, 2, out int offsetMinutes)
                || offsetHours > 23 || offsetMinutes > 59)
            {
                return false;
            }

            offsetTicks = ((offsetHours * 60L) + offsetMinutes) * TimeSpan.TicksPerMinute;
            if (designator == '-')
            {
                offsetTicks = -offsetTicks;
            }

            i += 6;
        }
        else
        {
            return false;
        }

        if (i != s.Length)
        {
            return false;
        }

        // Ticks may fall slightly outside DateTime's range after the offset; they are only compared.
        utcTicks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks
            + fractionTicks - offsetTicks;
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<char> s, int start, int count, out int value)
    {
        value = 0;
        for (int i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(s[i]))
            {
                return false;
            }

            value = (value * 10) + (s[i] - '0');
        }

        return true;
    }
}
