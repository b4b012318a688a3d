using System.Diagnostics;
using System.Globalization;
using ScottPlot;

namespace AgentOrchestrator.Bench;

/// <summary>What every scenario hands back: a Markdown table on stdout and a grouped bar chart as PNG.</summary>
internal static class Report
{
    public static void Table(string[] columns, IEnumerable<string[]> rows)
    {
        Console.WriteLine("| " + string.Join(" | ", columns) + " |");
        Console.WriteLine("| " + string.Join(" | ", columns.Select((_, i) => i == 0 ? "---" : "---:")) + " |");
        foreach (var row in rows)
        {
            Console.WriteLine("| " + string.Join(" | ", row) + " |");
        }
        Console.WriteLine();
    }

    /// <summary>One bar group per category, one colour per series (e.g. categories = sizes, series = p50/p99).</summary>
    public static void BarChart(BenchSettings settings, string fileName, string title, string yLabel,
        IReadOnlyList<string> categories, IReadOnlyList<(string Name, double[] Values)> series)
    {
        Directory.CreateDirectory(settings.ResultsDirectory);
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var groupWidth = series.Count + 1;
        for (var s = 0; s < series.Count; s++)
        {
            var bars = new List<Bar>();
            for (var c = 0; c < categories.Count; c++)
            {
                var value = series[s].Values[c];
                bars.Add(new Bar { Position = (c * groupWidth) + s, Value = double.IsFinite(value) ? value : 0, FillColor = palette.GetColor(s) });
            }
            plot.Add.Bars(bars);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Name, FillColor = palette.GetColor(s) });
        }
        var ticks = categories.Select((label, c) => new Tick((c * groupWidth) + ((series.Count - 1) / 2.0), label)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperLeft);
        var path = Path.Combine(settings.ResultsDirectory, fileName);
        plot.SavePng(path, 900, 500);
        Console.WriteLine($"plot: {path}");
        Console.WriteLine();
    }

    public static string F(double value, int decimals = 2) =>
        double.IsFinite(value) ? value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "n/a";

    public static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[(int)Math.Max(0, Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1))];

    /// <summary>
    /// Unix-epoch microseconds from a monotonic clock anchored once, comparable with the simulator's
    /// x_emitted_at_us stamps (same machine) and undisturbed by wall-clock adjustments during a run.
    /// </summary>
    public static long NowUnixMicroseconds() => ((Stopwatch.GetTimestamp() - s_clockOrigin) * 1_000_000 / Stopwatch.Frequency) + s_unixOriginUs;

    private static readonly long s_clockOrigin = Stopwatch.GetTimestamp();
    private static readonly long s_unixOriginUs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
}
