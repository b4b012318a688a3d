using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Time.Testing;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests;

/// <summary>Server time comes from a TimeProvider: tests drive month-long timers and retention directly.</summary>
public sealed class TimeAndRetentionTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private DevServerHost? _server;

    public async Task InitializeAsync() =>
        _server = await DevServerHost.StartAsync(new DevServerOptions { Port = 0, Retention = TimeSpan.FromDays(1) }, _time);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Workflow]
    public sealed class SleepForAMonthWorkflow
    {
        [WorkflowRun]
        public async Task<string> RunAsync()
        {
            await Workflow.DelayAsync(TimeSpan.FromDays(30));
            return "rested";
        }
    }

    [Fact]
    public async Task ThirtyDayTimer_FakeTimeAdvanced_FiresAndRunIsDroppedAfterRetention()
    {
        var client = await TemporalClient.ConnectAsync(new TemporalClientConnectOptions(_server!.Target));
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<SleepForAMonthWorkflow>());
        var handle = await client.StartWorkflowAsync((SleepForAMonthWorkflow wf) => wf.RunAsync(), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));

        // Advance only once the workflow is parked on its timer (its task completed), so no task times out.
        await Eventually.TrueAsync(async () =>
        {
            var events = (await handle.FetchHistoryAsync()).Events;
            return events.Any(e => e.EventType == EventType.TimerStarted) && events.Last().EventType == EventType.TimerStarted;
        });
        _time.Advance(TimeSpan.FromDays(30));

        Assert.Equal("rested", await handle.GetResultAsync());
        var history = await handle.FetchHistoryAsync();
        Assert.Contains(history.Events, e => e.EventType == EventType.TimerFired);
        await Replay.AssertDeterministicAsync(history, typeof(SleepForAMonthWorkflow));

        _time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await handle.DescribeAsync();
                return false;
            }
            catch (RpcException error) when (error.Code == RpcException.StatusCode.NotFound)
            {
                return true;
            }
        }, because: "the closed run is dropped after the retention period");
    }
}
