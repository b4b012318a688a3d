using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ScottPlot;

namespace AgentOrchestrator.Bench;

/// <summary>
/// What every scenario hands back: a Markdown table on stdout, with <c>--json FILE</c> the same rows as JSON, and a
/// grouped bar chart as PNG.
/// </summary>
internal static class Report
{
    private static readonly JsonArray s_jsonRows = [];

    /// <summary>Where tables also go as JSON (<c>--json FILE</c>); null: stdout only. Setting it starts a new array.</summary>
    public static string? JsonFile
    {
        get;
        set
        {
            field = value;
            s_jsonRows.Clear();
        }
    }

    /// <summary>The scenario running now: the default table name.</summary>
    public static string Scenario { get; set; } = string.Empty;

    /// <summary>
    /// Prints a Markdown table. With <see cref="JsonFile"/>, the file is rewritten as a JSON array holding every row of
    /// every table printed so far, each an object keyed by its table's column names plus <c>table</c> (<paramref name="name"/>,
    /// by default the scenario's name): numbers as numbers, "n/a" and "-" as null, anything else as text.
    /// </summary>
    public static void Table(string[] columns, IEnumerable<string[]> rows, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var printed = rows.ToList();
        Console.WriteLine("| " + string.Join(" | ", columns) + " |");
        Console.WriteLine("| " + string.Join(" | ", columns.Select((_, i) => i == 0 ? "---" : "---:")) + " |");
        foreach (var row in printed)
        {
            Console.WriteLine("| " + string.Join(" | ", row) + " |");
        }
        Console.WriteLine();
        if (JsonFile is not { } file)
        {
            return;
        }
        foreach (var row in printed)
        {
            var json = new JsonObject { ["table"] = name ?? Scenario };
            for (var i = 0; i < columns.Length; i++)
            {
                json[columns[i]] = i < row.Length ? JsonValueOf(row[i]) : null;
            }
            s_jsonRows.Add(json);
        }
        // Rewritten after every table: a scenario that fails later still leaves what it measured.
        File.WriteAllText(file, s_jsonRows.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static JsonValue? JsonValueOf(string cell) =>
        cell is "n/a" or "-" ? null
        : double.TryParse(cell.Replace(",", string.Empty, StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? JsonValue.Create(number)
            : JsonValue.Create(cell);

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
    // Microseconds, not milliseconds: the anchor's rounding would shift every comparison with another process's stamps.
    private static readonly long s_unixOriginUs = (DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;
}
