using AgentOrchestrator.ChaosSupport;

namespace AgentOrchestrator.Bench;

/// <summary>
/// chaos: the chaos suite's session (tests/ChaosSupport, the same one tests/Chaos.Tests asserts on) with its figures
/// per fault kind: faults injected, runs in flight at them, tokens lost and duplicated and stream.reset events the
/// shipped clients saw, and the time from each fault to each run's next token (p50, p99, max).
/// </summary>
internal static class ChaosBench
{
    public static async Task RunAsync(BenchSettings settings)
    {
        var chaos = settings.Smoke ? ChaosSettings.Smoke : ChaosSettings.Default;
        chaos = chaos with
        {
            ConcurrentRuns = settings.ReadInt("--runs", chaos.ConcurrentRuns),
            FaultsPerKind = settings.ReadInt("--faults", chaos.FaultsPerKind),
            Seed = settings.ReadInt("--seed", chaos.Seed),
            Browser = !settings.Has("--no-browser"),
        };
        var report = await ChaosSession.RunAsync(chaos, Console.WriteLine);
        Console.WriteLine($"### chaos ({report.Runs} runs, {chaos.ConcurrentRuns} in flight, 2 gateways, 2 workers, seed {report.Seed}; "
            + $"{report.Differences.Count} differences between a client and a run)");
        Report.Table(
            ["fault", "injected", "runs in flight", "lost tokens", "duplicated tokens", "stream.reset", "steps run again", "recovery p50 (s)", "recovery p99 (s)", "max (s)", "samples"],
            report.Faults.Select(f => new[]
            {
                f.Kind.ToString(), Report.N(f.Injected), Report.N(f.RunsExposed), Report.N(f.LostTokens), Report.N(f.DuplicatedTokens),
                Report.N(f.Resets), Report.N(f.RepeatedSteps), Seconds(f.RecoveryP50), Seconds(f.RecoveryP99), Seconds(f.RecoveryMax), Report.N(f.RecoverySamples),
            }));
        foreach (var difference in report.Differences)
        {
            Console.WriteLine($"- {difference}");
        }
    }

    private static string Seconds(TimeSpan? time) => time is { } t ? Report.F(t.TotalSeconds) : "-";
}
