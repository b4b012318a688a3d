using System.Diagnostics;
using AgentOrchestrator.DevServer;
using Temporalio.Client;
using Temporalio.Worker;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Scenario e: workflows per second from start to completion with the SDK worker in the same process,
/// for a one-activity and a three-activity workflow.
/// </summary>
internal static class DevServerThroughput
{
    public static async Task RunAsync(BenchSettings settings)
    {
        var workflows = settings.ReadInt("--workflows", settings.Smoke ? 20 : 1000);
        await using var server = await DevServerHost.StartAsync(new DevServerOptions { Port = 0 });
        var client = await TemporalClient.ConnectAsync(new TemporalClientConnectOptions(server.Target));
        var rows = new List<(string Name, int Count, double Seconds)>();
        foreach (var steps in new[] { 1, 3 })
        {
            var taskQueue = $"bench-{steps}-{Guid.NewGuid()}";
            using var stop = new CancellationTokenSource();
            using var worker = new TemporalWorker(client, new TemporalWorkerOptions(taskQueue)
                .AddWorkflow<StepsWorkflow>()
                .AddActivity(StepsWorkflow.Increment));
            var running = worker.ExecuteAsync(stop.Token);
            // Warm-up so JIT and connections are not measured.
            await client.ExecuteWorkflowAsync((StepsWorkflow wf) => wf.RunAsync(steps), new WorkflowOptions($"warm-{Guid.NewGuid()}", taskQueue));
            var clock = Stopwatch.StartNew();
            var starts = new List<Task<int>>(workflows);
            for (var i = 0; i < workflows; i++)
            {
                starts.Add(client.ExecuteWorkflowAsync((StepsWorkflow wf) => wf.RunAsync(steps), new WorkflowOptions($"bench-{Guid.NewGuid()}", taskQueue)));
            }
            var results = await Task.WhenAll(starts);
            clock.Stop();
            if (results.Any(r => r != steps))
            {
                throw new InvalidOperationException("a workflow returned a wrong result");
            }
            rows.Add(($"{steps}-activity workflow", workflows, clock.Elapsed.TotalSeconds));
            await stop.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
            }
        }
        Console.WriteLine($"### devserver ({workflows} workflows started at once, SDK worker in process)");
        Report.Table(["scenario", "workflows", "seconds", "workflows/s"],
            rows.Select(r => new[] { r.Name, Report.N(r.Count), Report.F(r.Seconds), Report.F(r.Count / r.Seconds, 1) }));
        Report.BarChart(settings, "devserver.png", "Dev server: workflows completed per second", "workflows/s",
            [.. rows.Select(r => r.Name)], [("workflows/s", [.. rows.Select(r => r.Count / r.Seconds)])]);
    }
}
