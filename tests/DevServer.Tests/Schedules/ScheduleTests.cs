using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Time.Testing;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Client.Schedules;
using Temporalio.Common;
using Temporalio.Exceptions;

namespace AgentOrchestrator.DevServer.Tests.Schedules;

/// <summary>
/// Schedules through the SDK's schedule client. Timed behaviour runs on a server of its own driven by a fake clock:
/// the clock moves, the schedule wakes, and the test waits for what it started. The started workflows have no worker:
/// for overlap and catch-up only whether a run is still open matters.
/// </summary>
public sealed class ScheduleTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    private static readonly DateTimeOffset Origin = new(2030, 1, 1, 0, 0, 5, TimeSpan.Zero);
    private static readonly SearchAttributeKey<string> ScheduledById = SearchAttributeKey.CreateKeyword("TemporalScheduledById");

    [Fact]
    public async Task IntervalSchedule_StartsAWorkflowAtEachInterval_AndSkipsWhileOneIsRunning()
    {
        var time = new FakeTimeProvider(Origin);
        await using var host = await DevServerHost.StartAsync(new DevServerOptions { Port = 0 }, timeProvider: time);
        var client = await ScenarioHelpers.ConnectAsync(host);
        var handle = await client.CreateScheduleAsync("every-ten", NewSchedule(new ScheduleSpec { Intervals = [new(TimeSpan.FromMinutes(10))] }));

        var description = await handle.DescribeAsync();
        Assert.Equal(
            [Origin.AddMinutes(10).AddSeconds(-5).UtcDateTime, Origin.AddMinutes(20).AddSeconds(-5).UtcDateTime],
            description.Info.NextActionTimes.Take(2));
        Assert.Equal(0, description.Info.NumActions);

        time.Advance(TimeSpan.FromMinutes(10));
        description = await WaitAsync(handle, d => d.Info.NumActions == 1, "the first interval started no workflow");
        var started = Assert.Single(description.Info.RecentActions);
        Assert.Equal(new DateTime(2030, 1, 1, 0, 10, 0, DateTimeKind.Utc), started.ScheduledAt);
        var workflowId = ((ScheduleActionExecutionStartWorkflow)started.Action).WorkflowId;
        Assert.Equal("scheduled-wf-2030-01-01T00:10:00Z", workflowId);
        var run = await client.GetWorkflowHandle(workflowId).DescribeAsync();
        Assert.Equal(WorkflowExecutionStatus.Running, run.Status);
        Assert.Equal("every-ten", run.TypedSearchAttributes.Get(ScheduledById));

        // The default overlap policy is Skip: the next action is dropped while the first run is open.
        time.Advance(TimeSpan.FromMinutes(10));
        description = await WaitAsync(handle, d => d.Info.NumActionsSkippedOverlap == 1, "the overlapping action was not skipped");
        Assert.Equal(1, description.Info.NumActions);
    }

    [Fact]
    public async Task AfterDowntime_ActionsInsideTheCatchupWindowRun_AndOlderOnesAreMissed()
    {
        var time = new FakeTimeProvider(Origin);
        await using var host = await DevServerHost.StartAsync(new DevServerOptions { Port = 0 }, timeProvider: time);
        var client = await ScenarioHelpers.ConnectAsync(host);
        var schedule = NewSchedule(new ScheduleSpec { Intervals = [new(TimeSpan.FromMinutes(10))] });
        schedule = schedule with { Policy = new SchedulePolicy { Overlap = ScheduleOverlapPolicy.AllowAll, CatchupWindow = TimeSpan.FromMinutes(25) } };
        var handle = await client.CreateScheduleAsync("catch-up", schedule);

        // One jump of an hour: the schedule wakes once, late, with six nominal times behind it.
        time.Advance(TimeSpan.FromMinutes(60));

        var description = await WaitAsync(handle, d => d.Info.NumActions + d.Info.NumActionsMissedCatchupWindow == 6, "the missed hour was not processed");
        Assert.Equal(3, description.Info.NumActionsMissedCatchupWindow);
        Assert.Equal(3, description.Info.NumActions);
        Assert.Equal(
            [new DateTime(2030, 1, 1, 0, 40, 0, DateTimeKind.Utc), new DateTime(2030, 1, 1, 0, 50, 0, DateTimeKind.Utc), new DateTime(2030, 1, 1, 1, 0, 0, DateTimeKind.Utc)],
            description.Info.RecentActions.Select(a => a.ScheduledAt));
    }

    [Fact]
    public async Task BufferOne_HoldsOneActionUntilTheRunningWorkflowCloses_AndDropsTheRest()
    {
        var time = new FakeTimeProvider(Origin);
        await using var host = await DevServerHost.StartAsync(new DevServerOptions { Port = 0 }, timeProvider: time);
        var client = await ScenarioHelpers.ConnectAsync(host);
        var schedule = NewSchedule(new ScheduleSpec { Intervals = [new(TimeSpan.FromMinutes(10))] });
        schedule = schedule with { Policy = new SchedulePolicy { Overlap = ScheduleOverlapPolicy.BufferOne } };
        var handle = await client.CreateScheduleAsync("buffer-one", schedule);

        time.Advance(TimeSpan.FromMinutes(10));
        await WaitAsync(handle, d => d.Info.NumActions == 1, "the first action did not start");
        time.Advance(TimeSpan.FromMinutes(10));
        await WaitForRawAsync(client, "buffer-one", d => d.Info.BufferSize == 1, "the second action was not buffered");
        time.Advance(TimeSpan.FromMinutes(10));
        var raw = await WaitForRawAsync(client, "buffer-one", d => d.Info.BufferDropped == 1, "the third action was not dropped");
        Assert.Equal(1, raw.Info.BufferSize);

        await client.GetWorkflowHandle("scheduled-wf-2030-01-01T00:10:00Z").TerminateAsync("let the buffered one run");

        var description = await WaitAsync(handle, d => d.Info.NumActions == 2, "the buffered action did not start after the run closed");
        Assert.Equal(new DateTime(2030, 1, 1, 0, 20, 0, DateTimeKind.Utc), description.Info.RecentActions.Last().ScheduledAt);
        Assert.Equal(WorkflowExecutionStatus.Running, (await client.GetWorkflowHandle("scheduled-wf-2030-01-01T00:20:00Z").DescribeAsync()).Status);
    }

    [Fact]
    public async Task CronSchedule_IsDescribedAsAStructuredCalendar_WithItsNextTimes()
    {
        var client = await server.ConnectClientAsync();
        var id = $"cron-{Guid.NewGuid()}";
        var handle = await client.CreateScheduleAsync(id, NewSchedule(new ScheduleSpec { CronExpressions = ["0 12 * * MON-FRI"] }));

        var description = await handle.DescribeAsync();

        var calendar = Assert.Single(description.Schedule.Spec.Calendars);
        Assert.Equal([new ScheduleRange(12)], calendar.Hour);
        Assert.Equal([new ScheduleRange(1, 5)], calendar.DayOfWeek);
        Assert.Empty(description.Schedule.Spec.CronExpressions);
        Assert.Equal(10, description.Info.NextActionTimes.Count);
        Assert.All(description.Info.NextActionTimes, t =>
        {
            Assert.Equal(new TimeSpan(12, 0, 0), t.TimeOfDay);
            Assert.NotEqual(DayOfWeek.Saturday, t.DayOfWeek);
            Assert.NotEqual(DayOfWeek.Sunday, t.DayOfWeek);
        });
        await handle.DeleteAsync();
    }

    [Fact]
    public async Task PauseOnFailure_ARunThatTimesOutPausesTheSchedule_ATerminatedOneDoesNot()
    {
        var time = new FakeTimeProvider(Origin);
        await using var host = await DevServerHost.StartAsync(new DevServerOptions { Port = 0 }, timeProvider: time);
        var client = await ScenarioHelpers.ConnectAsync(host);
        var schedule = new Schedule(
            ScheduleActionStartWorkflow.Create("ScheduledWorkflow", [], new WorkflowOptions("pof-wf", "schedule-tq") { RunTimeout = TimeSpan.FromMinutes(1) }),
            new ScheduleSpec { CronExpressions = ["@yearly"] })
        {
            Policy = new SchedulePolicy { PauseOnFailure = true, Overlap = ScheduleOverlapPolicy.AllowAll },
        };
        var handle = await client.CreateScheduleAsync("pause-on-failure", schedule);

        await handle.TriggerAsync();
        var description = await WaitAsync(handle, d => d.Info.RunningActions.Count == 1, "the trigger started nothing");
        await client.GetWorkflowHandle(((ScheduleActionExecutionStartWorkflow)description.Info.RunningActions.Single()).WorkflowId).TerminateAsync("not a failure");
        description = await WaitAsync(handle, d => d.Info.RunningActions.Count == 0, "the terminated run is still listed as running");
        Assert.False(description.Schedule.State.Paused);

        time.Advance(TimeSpan.FromSeconds(10)); // the next trigger's workflow id names another time
        await handle.TriggerAsync();
        description = await WaitAsync(handle, d => d.Info.RunningActions.Count == 1, "the second trigger started nothing");
        var timingOut = ((ScheduleActionExecutionStartWorkflow)description.Info.RunningActions.Single()).WorkflowId;
        time.Advance(TimeSpan.FromMinutes(2)); // no worker: the run times out

        description = await WaitAsync(handle, d => d.Schedule.State.Paused, "the timed-out run did not pause the schedule");
        Assert.Equal($"paused: workflow {timingOut} timed out", description.Schedule.State.Note);
        Assert.Empty(description.Info.RunningActions);
    }

    [Fact]
    public async Task ListSchedules_WithAQuery_ReturnsOnlyTheMatchingSchedules_AndABadQueryIsRefused()
    {
        var time = new FakeTimeProvider(Origin);
        await using var host = await DevServerHost.StartAsync(new DevServerOptions { Port = 0 }, timeProvider: time);
        var client = await ScenarioHelpers.ConnectAsync(host);
        var team = SearchAttributeKey.CreateKeyword("Team");
        var spec = new ScheduleSpec { CronExpressions = ["@yearly"] };
        await client.CreateScheduleAsync("nightly-a", NewSchedule(spec, "wf-a"), new ScheduleOptions
        {
            TypedSearchAttributes = new SearchAttributeCollection.Builder().Set(team, "red").ToSearchAttributeCollection(),
        });
        var paused = await client.CreateScheduleAsync("nightly-b", NewSchedule(spec, "wf-b"), new ScheduleOptions
        {
            TypedSearchAttributes = new SearchAttributeCollection.Builder().Set(team, "blue").ToSearchAttributeCollection(),
        });
        await paused.PauseAsync("hold");
        await client.CreateScheduleAsync("weekly-c", NewSchedule(spec, "wf-c"));

        Assert.Equal(["nightly-a"], await ListAsync(client, "Team = 'red'"));
        Assert.Equal(["nightly-b"], await ListAsync(client, "TemporalSchedulePaused = true"));
        Assert.Equal(["nightly-a", "nightly-b"], await ListAsync(client, "ScheduleId STARTS_WITH 'nightly'"));
        Assert.Equal(["nightly-a", "weekly-c"], await ListAsync(client, "TemporalSchedulePaused = false"));
        Assert.Equal(["nightly-a", "nightly-b", "weekly-c"], await ListAsync(client, null));
        var refused = await Assert.ThrowsAsync<RpcException>(() => ListAsync(client, "Team = "));
        Assert.Equal(RpcException.StatusCode.InvalidArgument, refused.Code);
    }

    private static async Task<List<string>> ListAsync(TemporalClient client, string? query)
    {
        var ids = new List<string>();
        await foreach (var entry in client.ListSchedulesAsync(new ScheduleListOptions { Query = query }))
        {
            ids.Add(entry.Id);
        }
        return ids;
    }

    [Fact]
    public async Task Jitter_DelaysEachActionByAFixedAmountWithinTheJitter_AndTheActionKeepsItsNominalTime()
    {
        var time = new FakeTimeProvider(Origin);
        await using var host = await DevServerHost.StartAsync(new DevServerOptions { Port = 0 }, timeProvider: time);
        var client = await ScenarioHelpers.ConnectAsync(host);
        var handle = await client.CreateScheduleAsync("jittered", NewSchedule(new ScheduleSpec
        {
            Intervals = [new(TimeSpan.FromMinutes(10))],
            Jitter = TimeSpan.FromMinutes(5),
        }));
        var nominal = new DateTime(2030, 1, 1, 0, 10, 0, DateTimeKind.Utc);

        var announced = (await handle.DescribeAsync()).Info.NextActionTimes.First();
        Assert.InRange(announced, nominal.AddTicks(1), nominal.AddMinutes(5).AddTicks(-1));
        Assert.Equal(announced, (await handle.DescribeAsync()).Info.NextActionTimes.First()); // the same every time it is asked

        time.Advance(announced - Origin.UtcDateTime);
        var description = await WaitAsync(handle, d => d.Info.NumActions == 1, "the jittered action did not run at its announced time");
        var action = Assert.Single(description.Info.RecentActions);
        Assert.Equal(nominal, action.ScheduledAt);
        Assert.Equal(announced, action.StartedAt);
        Assert.Equal("scheduled-wf-2030-01-01T00:10:00Z", ((ScheduleActionExecutionStartWorkflow)action.Action).WorkflowId);
        Assert.Equal(TimeSpan.FromMinutes(5), description.Schedule.Spec.Jitter);
    }

    [Fact]
    public async Task TriggerPauseUpdateListAndDelete_WorkThroughTheClient()
    {
        var client = await server.ConnectClientAsync();
        var id = $"ops-{Guid.NewGuid()}";
        // A yearly calendar keeps natural actions out of the test: everything here is triggered.
        var handle = await client.CreateScheduleAsync(id, NewSchedule(new ScheduleSpec { CronExpressions = ["@yearly"] }, $"wf-{id}"));

        await handle.TriggerAsync();
        var description = await WaitAsync(handle, d => d.Info.NumActions == 1, "trigger started nothing");
        Assert.Single(description.Info.RunningActions);

        await handle.PauseAsync("maintenance");
        description = await handle.DescribeAsync();
        Assert.True(description.Schedule.State.Paused);
        Assert.Equal("maintenance", description.Schedule.State.Note);
        await handle.UnpauseAsync("done");
        Assert.False((await handle.DescribeAsync()).Schedule.State.Paused);

        await handle.UpdateAsync(input => new ScheduleUpdate(input.Description.Schedule with { Spec = new ScheduleSpec { Intervals = [new(TimeSpan.FromHours(2))] } }));
        description = await handle.DescribeAsync();
        Assert.Equal(TimeSpan.FromHours(2), Assert.Single(description.Schedule.Spec.Intervals).Every);
        Assert.NotNull(description.Info.LastUpdatedAt);

        var listed = new List<string>();
        await foreach (var entry in client.ListSchedulesAsync())
        {
            listed.Add(entry.Id);
        }
        Assert.Contains(id, listed);
        var count = await client.Connection.WorkflowService.CountSchedulesAsync(new CountSchedulesRequest { Namespace = server.Namespace });
        Assert.True(count.Count >= 1);

        await handle.DeleteAsync();
        var gone = await Assert.ThrowsAsync<RpcException>(() => handle.DescribeAsync());
        Assert.Equal(RpcException.StatusCode.NotFound, gone.Code);
    }

    [Fact]
    public async Task BadRequests_AreRefusedWithTypedErrors()
    {
        var client = await server.ConnectClientAsync();
        var id = $"bad-{Guid.NewGuid()}";

        var badCron = await Assert.ThrowsAsync<RpcException>(() =>
            client.CreateScheduleAsync(id, NewSchedule(new ScheduleSpec { CronExpressions = ["61 * * * *"] })));
        Assert.Equal(RpcException.StatusCode.InvalidArgument, badCron.Code);
        Assert.Contains("minute", badCron.Message, StringComparison.Ordinal);

        var handle = await client.CreateScheduleAsync(id, NewSchedule(new ScheduleSpec { CronExpressions = ["@daily"] }));
        await Assert.ThrowsAsync<ScheduleAlreadyRunningException>(() =>
            client.CreateScheduleAsync(id, NewSchedule(new ScheduleSpec { CronExpressions = ["@daily"] })));

        var current = await client.Connection.WorkflowService.DescribeScheduleAsync(new DescribeScheduleRequest { Namespace = server.Namespace, ScheduleId = id });
        var stale = await Assert.ThrowsAsync<RpcException>(() => client.Connection.WorkflowService.UpdateScheduleAsync(new UpdateScheduleRequest
        {
            Namespace = server.Namespace,
            ScheduleId = id,
            Schedule = current.Schedule,
            ConflictToken = Google.Protobuf.ByteString.CopyFromUtf8("stale"),
        }));
        Assert.Equal(RpcException.StatusCode.FailedPrecondition, stale.Code);
        await handle.DeleteAsync();
    }

    private static Schedule NewSchedule(ScheduleSpec spec, string workflowId = "scheduled-wf") =>
        new(ScheduleActionStartWorkflow.Create("ScheduledWorkflow", [], new WorkflowOptions(workflowId, "schedule-tq")), spec);

    private static async Task<ScheduleDescription> WaitAsync(ScheduleHandle handle, Func<ScheduleDescription, bool> condition, string because)
    {
        ScheduleDescription? last = null;
        await Eventually.TrueAsync(async () => condition(last = await handle.DescribeAsync()), TimeSpan.FromSeconds(30), because);
        return last!;
    }

    private static async Task<DescribeScheduleResponse> WaitForRawAsync(TemporalClient client, string id, Func<DescribeScheduleResponse, bool> condition, string because)
    {
        DescribeScheduleResponse? last = null;
        await Eventually.TrueAsync(async () => condition(last = await client.Connection.WorkflowService.DescribeScheduleAsync(
            new DescribeScheduleRequest { Namespace = "default", ScheduleId = id })), TimeSpan.FromSeconds(30), because);
        return last!;
    }
}
