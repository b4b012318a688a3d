using System.Diagnostics;
using System.Globalization;
using AgentOrchestrator.DevServer;
using AgentOrchestrator.TestSupport;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Worker;

namespace AgentOrchestrator.Bench;

/// <summary>
/// The dev server with its SQLite store: three-activity workflows per second beside the in-memory server in the
/// same run, database bytes per completed workflow, and how long a server killed with SIGKILL while 1,000
/// workflows are open takes to serve again.
/// </summary>
internal static class DevServerDurability
{
    public static async Task RunAsync(BenchSettings settings)
    {
        var workflows = settings.ReadInt("--workflows", settings.Smoke ? 20 : 1000);
        var open = settings.ReadInt("--open", settings.Smoke ? 20 : 1000);
        var directory = Path.Combine(Path.GetTempPath(), "bench-devserver-durable-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var memory = await ThroughputAsync(workflows, databasePath: null, syncToDisk: false);
            var databasePath = Path.Combine(directory, "throughput.db");
            var emptyBytes = await EmptyDatabaseBytesAsync(Path.Combine(directory, "empty.db"));
            var durable = await ThroughputAsync(workflows, databasePath, syncToDisk: false);
            var bytesPerWorkflow = (double)(FileBytes(databasePath) - emptyBytes) / workflows;
            var synced = await ThroughputAsync(workflows, Path.Combine(directory, "synced.db"), syncToDisk: true);
            var recovery = await RecoveryAsync(open, Path.Combine(directory, "recovery.db"));

            Console.WriteLine($"### devserver-durable ({workflows} three-activity workflows started at once, SDK worker in process)");
            Report.Table(["store", "workflows", "seconds", "workflows/s"],
            [
                ["in memory", Report.N(workflows), Report.F(memory), Report.F(workflows / memory, 1)],
                ["SQLite (WAL, synchronous=NORMAL: the default)", Report.N(workflows), Report.F(durable), Report.F(workflows / durable, 1)],
                ["SQLite (WAL, synchronous=FULL: --sync-commits)", Report.N(workflows), Report.F(synced), Report.F(workflows / synced, 1)],
            ]);
            Report.Table(["measure", "value"],
            [
                ["database bytes per completed three-activity workflow", Report.N((long)bytesPerWorkflow)],
                [$"restart after SIGKILL with {open} open workflows: process start to first answer (ms)", Report.N(recovery.ServingMs)],
                ["of which the engine's restore (ms, from its log line)", recovery.RestoreMs],
            ]);
            Report.BarChart(settings, "devserver-durable.png", "Dev server: three-activity workflows per second", "workflows/s",
                ["in memory", "SQLite", "SQLite, synced"], [("workflows/s", [workflows / memory, workflows / durable, workflows / synced])]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Seconds for <paramref name="workflows"/> three-activity workflows started at once to complete.</summary>
    private static async Task<double> ThroughputAsync(int workflows, string? databasePath, bool syncToDisk)
    {
        await using var server = await DevServerHost.StartAsync(new DevServerOptions { Port = 0, DatabasePath = databasePath, SyncCommitsToDisk = syncToDisk });
        var client = await TemporalClient.ConnectAsync(new TemporalClientConnectOptions(server.Target));
        var taskQueue = $"bench-durable-{Guid.NewGuid()}";
        using var stop = new CancellationTokenSource();
        using var worker = new TemporalWorker(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<StepsWorkflow>().AddActivity(StepsWorkflow.Increment));
        var running = worker.ExecuteAsync(stop.Token);
        // Warm-up so JIT and connections are not measured.
        await client.ExecuteWorkflowAsync((StepsWorkflow wf) => wf.RunAsync(3), new WorkflowOptions($"warm-{Guid.NewGuid()}", taskQueue));
        var clock = Stopwatch.StartNew();
        var runs = new List<Task<int>>(workflows);
        for (var i = 0; i < workflows; i++)
        {
            runs.Add(client.ExecuteWorkflowAsync((StepsWorkflow wf) => wf.RunAsync(3), new WorkflowOptions($"bench-{Guid.NewGuid()}", taskQueue)));
        }
        var results = await Task.WhenAll(runs);
        clock.Stop();
        if (results.Any(r => r != 3))
        {
            throw new InvalidOperationException("a workflow returned a wrong result");
        }
        await stop.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
        }
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task<long> EmptyDatabaseBytesAsync(string path)
    {
        await using (await DevServerHost.StartAsync(new DevServerOptions { Port = 0, DatabasePath = path }))
        {
        }
        return FileBytes(path);
    }

    /// <summary>The database and its write-ahead log (a clean stop folds the log into the database).</summary>
    private static long FileBytes(string path) =>
        new FileInfo(path).Length + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length : 0);

    /// <summary>
    /// Leaves <paramref name="open"/> workflows open (each with its activity waiting for a worker), kills the server
    /// process with SIGKILL, starts it again and times process start to the first answer that needs the state.
    /// </summary>
    private static async Task<(long ServingMs, string RestoreMs)> RecoveryAsync(int open, string databasePath)
    {
        var port = ServiceProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        string[] arguments = ["--port", port, "--db-filename", databasePath];
        var first = ServiceProcess.Start("DevServer", arguments, new Dictionary<string, string>(), "listening on");
        await first.WaitReadyAsync();
        var client = await TemporalClient.ConnectAsync(new TemporalClientConnectOptions($"127.0.0.1:{port}"));
        var taskQueue = $"bench-open-{Guid.NewGuid()}";
        using (var stop = new CancellationTokenSource())
        {
            // Workflows only: every workflow's first activity stays queued, so all of them are open with pending work.
            using var worker = new TemporalWorker(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<StepsWorkflow>());
            var running = worker.ExecuteAsync(stop.Token);
            var handles = new List<WorkflowHandle>(open);
            for (var i = 0; i < open; i++)
            {
                handles.Add(await client.StartWorkflowAsync((StepsWorkflow wf) => wf.RunAsync(3), new WorkflowOptions($"open-{i}-{Guid.NewGuid()}", taskQueue)));
            }
            await Eventually.TrueAsync(async () => (await client.CountWorkflowsAsync("ExecutionStatus = 'Running'")).Count == open, TimeSpan.FromMinutes(5));
            await WaitForScheduledActivitiesAsync(handles);
            await stop.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
            }
        }
        await first.DisposeAsync(); // SIGKILL

        var clock = Stopwatch.StartNew();
        await using var second = ServiceProcess.Start("DevServer", arguments, new Dictionary<string, string>(), "listening on");
        long servingMs;
        while (true)
        {
            try
            {
                var count = await client.Connection.WorkflowService.CountWorkflowExecutionsAsync(
                    new CountWorkflowExecutionsRequest { Namespace = "default", Query = "ExecutionStatus = 'Running'" });
                servingMs = clock.ElapsedMilliseconds;
                if (count.Count != open)
                {
                    throw new InvalidOperationException($"{count.Count} of {open} workflows open after the restart");
                }
                break;
            }
            catch (Temporalio.Exceptions.RpcException) when (clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                await Task.Delay(20);
            }
        }
        // "Dev server restored N runs (M open) and K namespaces from storage in X ms"
        var restored = second.Output.Split('\n').LastOrDefault(line => line.Contains("from storage in", StringComparison.Ordinal));
        return (servingMs, restored is null ? "n/a" : restored[(restored.LastIndexOf(" in ", StringComparison.Ordinal) + 4)..].Replace(" ms", string.Empty, StringComparison.Ordinal).Trim());
    }

    private static async Task WaitForScheduledActivitiesAsync(List<WorkflowHandle> handles)
    {
        foreach (var handle in handles)
        {
            await Eventually.TrueAsync(async () => (await handle.FetchHistoryAsync()).Events.Any(e => e.EventType == Temporalio.Api.Enums.V1.EventType.ActivityTaskScheduled),
                TimeSpan.FromMinutes(5));
        }
    }
}
