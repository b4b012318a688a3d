namespace AgentOrchestrator.Bench;

internal static class BenchCommand
{
    private static readonly Dictionary<string, Func<BenchSettings, Task>> s_scenarios = new()
    {
        ["token-latency"] = TokenLatency.RunAsync, // [--runs 1,50,500] [--modes direct,relay,embedded,distributed]
        ["scale-out"] = ScaleOut.RunAsync, // [--runs 20] [--subscribers-per-run 1] [--rates 250,500,...] [--seconds 10] [--warm-up-seconds 5]
        ["run-log-memory"] = RunLogMemory.RunAsync, // [--runs 40]
        ["fanout"] = Fanout.RunAsync,
        ["slow-subscribers"] = SlowSubscribers.RunAsync,
        ["fair-delivery"] = FairDelivery.RunAsync,
        ["connections"] = Connections.RunAsync,
        ["run-throughput"] = RunThroughput.RunAsync, // [--runs 300] [--flows support-triage,writer-reviewer,research-team] [--warm-up 1]
        ["devserver"] = DevServerThroughput.RunAsync,
        ["devserver-durable"] = DevServerDurability.RunAsync, // [--workflows 1000] [--open 1000]
        ["chaos"] = ChaosBench.RunAsync, // [--runs 20] [--faults 3] [--seed N] [--no-browser]
        ["noisy-neighbour"] = NoisyNeighbour.RunAsync, // [--b-runs 20] [--flood-factor 10] [--b-pace-ms 250] [--repeats 3] [--no-plan]
    };

    public static async Task<int> RunAsync(string[] args)
    {
        var scenario = args.Length > 0 ? args[0] : "devserver";
        var settings = new BenchSettings(args);
        Report.JsonFile = settings.JsonFile;
        if (scenario == "all")
        {
            foreach (var (name, run) in s_scenarios)
            {
                Report.Scenario = name;
                await run(settings);
            }
            return 0;
        }
        if (!s_scenarios.TryGetValue(scenario, out var selected))
        {
            await Console.Error.WriteLineAsync($"unknown scenario '{scenario}' (known: all, {string.Join(", ", s_scenarios.Keys)})");
            return 2;
        }
        Report.Scenario = scenario;
        await selected(settings);
        return 0;
    }
}
