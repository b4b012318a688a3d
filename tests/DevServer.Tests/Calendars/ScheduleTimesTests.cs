using AgentOrchestrator.DevServer.Calendars;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Schedule.V1;

namespace AgentOrchestrator.DevServer.Tests.Calendars;

/// <summary>The action times a spec produces: cron fields, calendars in a time zone, intervals with a phase, exclusions.</summary>
public sealed class ScheduleTimesTests
{
    private static readonly DateTimeOffset Start = new(2030, 3, 29, 23, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Cron_StepsListsAndNames_ProduceTheMatchingTimesInOrder()
    {
        var times = new ScheduleTimes(new ScheduleSpec { CronString = { "*/20 9,17 * * SAT" } });

        Assert.Equal(
            [At(3, 30, 9, 0), At(3, 30, 9, 20), At(3, 30, 9, 40), At(3, 30, 17, 0)],
            Take(times, Start, 4));
    }

    [Fact]
    public void Calendar_InAZoneWithADaylightSavingJump_SkipsTheLocalTimeThatDoesNotExist()
    {
        // Europe/Berlin springs forward on 2030-03-31 at 02:00 local (01:00 UTC): 02:30 does not exist that day.
        var times = new ScheduleTimes(new ScheduleSpec { CronString = { "30 2 * * *" }, TimezoneName = "Europe/Berlin" });

        Assert.Equal([At(3, 30, 1, 30), At(4, 1, 0, 30)], Take(times, Start, 2));
    }

    [Fact]
    public void Interval_WithPhase_IsAlignedToTheEpoch_AndExclusionsAndEndTimeApply()
    {
        var spec = new ScheduleSpec
        {
            Interval = { new IntervalSpec { Interval = Duration.FromTimeSpan(TimeSpan.FromHours(6)), Phase = Duration.FromTimeSpan(TimeSpan.FromMinutes(15)) } },
            ExcludeStructuredCalendar = { new StructuredCalendarSpec { Hour = { new Temporalio.Api.Schedule.V1.Range { Start = 6 } }, Minute = { new Temporalio.Api.Schedule.V1.Range { Start = 15 } } } },
            EndTime = Timestamp.FromDateTimeOffset(At(3, 30, 18, 15)),
        };
        var times = new ScheduleTimes(spec);

        Assert.Equal([At(3, 30, 0, 15), At(3, 30, 12, 15), At(3, 30, 18, 15)], Take(times, Start, 10));
    }

    [Theory]
    [InlineData("* * * *")]
    [InlineData("0 24 * * *")]
    [InlineData("0 0 * FOO *")]
    [InlineData("5-1 * * * *")]
    public void Cron_Malformed_IsAFormatErrorNamingTheProblem(string cron)
    {
        var error = Assert.Throws<FormatException>(() => new ScheduleTimes(new ScheduleSpec { CronString = { cron } }));

        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    private static DateTimeOffset At(int month, int day, int hour, int minute) => new(2030, month, day, hour, minute, 0, TimeSpan.Zero);

    private static List<DateTimeOffset> Take(ScheduleTimes times, DateTimeOffset after, int count)
    {
        var result = new List<DateTimeOffset>();
        while (result.Count < count && times.Next(after) is { } next)
        {
            result.Add(next);
            after = next;
        }
        return result;
    }
}
