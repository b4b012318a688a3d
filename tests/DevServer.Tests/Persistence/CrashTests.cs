using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Persistence;

/// <summary>
/// The dev server as its own process on a SQLite file, killed with SIGKILL at several points while 50 workflows
/// with activities, timers and signals run, and restarted on the same file and port each time: every workflow
/// completes exactly once, with a history that replays.
/// </summary>
public sealed class CrashTests
{
    private const int Workflows = 50;

    [Workflow]
    public sealed class CrashWorkflow
    {
        private bool _proceed;

        [WorkflowRun]
        public async Task<int> RunAsync(int number)
        {
            var options = new ActivityOptions
            {
                StartToCloseTimeout = TimeSpan.FromSeconds(10),
                RetryPolicy = new() { InitialInterval = TimeSpan.FromMilliseconds(200), MaximumInterval = TimeSpan.FromSeconds(1) },
            };
            var first = await Workflow.ExecuteActivityAsync(() => CrashActivities.Step(number, 1), options);
            await Workflow.DelayAsync(TimeSpan.FromMilliseconds(300));
            await Workflow.WaitConditionAsync(() => _proceed);
            var second = await Workflow.ExecuteActivityAsync(() => CrashActivities.Step(number, 2), options);
            await Workflow.DelayAsync(TimeSpan.FromMilliseconds(300));
            var third = await Workflow.ExecuteActivityAsync(() => CrashActivities.Step(number, 3), options);
            return first + second + third;
        }

        [WorkflowSignal]
        public Task ProceedAsync()
        {
            _proceed = true;
            return Task.CompletedTask;
        }
    }

    public static class CrashActivities
    {
        /// <summary>Executions per (workflow, step): activities are at-least-once, so a crash may repeat one.</summary>
        public static ConcurrentDictionary<(int, int), int> Executions { get; } = new();

        public static int Total => Executions.Values.Sum();

        [Activity]
        public static int Step(int number, int step)
        {
            Executions.AddOrUpdate((number, step), 1, static (_, n) => n + 1);
            return number * 10 + step;
        }
    }

    [Fact]
    public async Task ServerProcess_KilledThreeTimesWhileWorkflowsRun_EveryWorkflowCompletesExactlyOnce()
    {
        var directory = Path.Combine(Path.GetTempPath(), "devserver-crash-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var port = ServiceProcess.FreePort();
        var arguments = new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--db-filename", Path.Combine(directory, "dev.db") };
        var server = await StartServerAsync(arguments);
        try
        {
            var client = await TemporalClient.ConnectAsync(new TemporalClientConnectOptions($"127.0.0.1:{port}"));
            var taskQueue = $"crash-{Guid.NewGuid()}";
            await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
                .AddWorkflow<CrashWorkflow>().AddActivity(CrashActivities.Step));
            var handles = new List<WorkflowHandle<CrashWorkflow, int>>();
            for (var i = 0; i < Workflows; i++)
            {
                handles.Add(await client.StartWorkflowAsync((CrashWorkflow wf) => wf.RunAsync(i), new WorkflowOptions($"crash-{Guid.NewGuid()}", taskQueue)));
            }

            // Kill points follow progress (first steps running, signals in flight, last steps running), with some jitter,
            // so they land mid-run however fast the machine is.
            server = await KillAndRestartAfterAsync(server, arguments, 5, 25);
            var signals = Task.WhenAll(handles.Select(h => WithRetriesAsync(() => h.SignalAsync(wf => wf.ProceedAsync()))));
            server = await KillAndRestartAfterAsync(server, arguments, Workflows, Workflows + 30);
            await signals;
            server = await KillAndRestartAfterAsync(server, arguments, 2 * Workflows, 2 * Workflows + 30);

            foreach (var (handle, number) in handles.Select((h, i) => (h, i)))
            {
                var result = await WithRetriesAsync(() => handle.GetResultAsync()).WaitAsync(TimeSpan.FromMinutes(3));
                Assert.Equal(number * 30 + 6, result);
                var history = await WithRetriesAsync(() => handle.FetchHistoryAsync());
                Assert.Single(history.Events, e => e.EventType == EventType.WorkflowExecutionCompleted);
                Assert.Equal(3, history.Events.Count(e => e.EventType == EventType.ActivityTaskCompleted));
                Assert.Equal(2, history.Events.Count(e => e.EventType == EventType.TimerFired));
                Assert.Equal(history.Events.Select((_, i) => (long)i + 1), history.Events.Select(e => e.EventId));
                await Replay.AssertDeterministicAsync(history, typeof(CrashWorkflow));
                var runs = await client.ListWorkflowsAsync($"WorkflowId = '{handle.Id}'").ToListAsync();
                Assert.Equal(WorkflowExecutionStatus.Completed, Assert.Single(runs).Status);
            }
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<ServiceProcess> StartServerAsync(string[] arguments)
    {
        var server = ServiceProcess.Start("DevServer", arguments, new Dictionary<string, string>(), "listening on");
        await server.WaitReadyAsync();
        return server;
    }

    /// <summary>Kills the server once a random number of activity executions in [min, max) have happened, and starts it again.</summary>
    private static async Task<ServiceProcess> KillAndRestartAfterAsync(ServiceProcess server, string[] arguments, int min, int max)
    {
        var killPoint = Random.Shared.Next(min, max);
        await Eventually.TrueAsync(() => CrashActivities.Total >= killPoint, TimeSpan.FromMinutes(2), $"the workflows reach {killPoint} activity executions");
        await server.DisposeAsync(); // SIGKILL
        return await StartServerAsync(arguments);
    }

    /// <summary>A call that meets the server down (or its answer lost to the kill) is made again once it is back.</summary>
    private static async Task<T> WithRetriesAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (RpcException error) when (attempt < 30 && error.Code is RpcException.StatusCode.Unavailable or RpcException.StatusCode.Unknown
                or RpcException.StatusCode.DeadlineExceeded or RpcException.StatusCode.Cancelled)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }

    private static Task<bool> WithRetriesAsync(Func<Task> call) => WithRetriesAsync(async () =>
    {
        await call();
        return true;
    });
}
