namespace AgentOrchestrator.ChaosSupport;

/// <summary>What a chaos session found: per fault kind the figures, and every difference between a client and a run.</summary>
public sealed record ChaosReport(int Seed, int Runs, IReadOnlyList<FaultFigures> Faults, IReadOnlyList<string> Differences, IReadOnlyList<Fault> Injected)
{
    /// <summary>Every run completed and every client (the .NET clients and the pages) showed it exactly.</summary>
    public bool Clean => Differences.Count == 0 && Faults.All(f => f.LostTokens == 0 && f.DuplicatedTokens == 0 && f.Resets == 0);

    /// <summary>The figures as plain lines (the test's output; bench chaos prints them as a table).</summary>
    public string ToText() => string.Join(Environment.NewLine, new[] { $"seed {Seed}, {Runs} runs, {Differences.Count} differences" }
        .Concat(Faults.Select(f => $"{f.Kind}: {f.Injected} faults, {f.RunsExposed} runs exposed, lost {f.LostTokens}, duplicated {f.DuplicatedTokens}, "
            + $"resets {f.Resets}, steps run again {f.RepeatedSteps}, recovery p50 {Seconds(f.RecoveryP50)} p99 {Seconds(f.RecoveryP99)} max {Seconds(f.RecoveryMax)} s ({f.RecoverySamples} samples)"))
        .Concat(Differences));

    private static string Seconds(TimeSpan? time) => time is { } t ? t.TotalSeconds.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) : "-";
}

/// <summary>
/// One fault kind's figures: how often it was injected, the runs live at those moments (counted once per fault), the
/// lost and duplicated tokens their .NET clients saw (since their last stream.reset), the stream.reset events and the
/// steps run again after they had completed (Temporal never recorded the completion) that came after a fault of this
/// kind and before the next fault, and the time from each fault to the next token of each run live at it (p50, p99,
/// max; runs that had nothing left to stream give no sample).
/// </summary>
public sealed record FaultFigures(FaultKind Kind, int Injected, int RunsExposed, int LostTokens, int DuplicatedTokens, int Resets, int RepeatedSteps,
    int RecoverySamples, TimeSpan? RecoveryP50, TimeSpan? RecoveryP99, TimeSpan? RecoveryMax);
