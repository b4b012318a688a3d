using System.Globalization;

namespace AgentOrchestrator.Bench;

/// <summary>Command-line settings shared by every scenario.</summary>
internal sealed class BenchSettings
{
    private readonly string[] _args;

    public BenchSettings(string[] args)
    {
        _args = args;
        Smoke = args.Contains("--smoke");
        ResultsDirectory = Path.GetFullPath(ReadString("--results", null) ?? Path.Combine("bench", "results"));
        JsonFile = ReadString("--json", null) is { } json ? Path.GetFullPath(json) : null;
    }

    /// <summary><c>--json FILE</c>: every table printed is also written there as JSON rows (<see cref="Report.Table"/>).</summary>
    public string? JsonFile { get; }

    /// <summary>Tiny sizes that finish in seconds: keeps every scenario working in CI, measures nothing.</summary>
    public bool Smoke { get; }

    /// <summary>Where PNG plots go (bench/results/ by default, gitignored).</summary>
    public string ResultsDirectory { get; }

    public bool Has(string flag) => _args.Contains(flag);

    public int ReadInt(string name, int fallback)
    {
        var text = ReadString(name, null);
        return text is null ? fallback : int.Parse(text, CultureInfo.InvariantCulture);
    }

    public double? ReadDouble(string name) =>
        ReadString(name, null) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : null;

    /// <summary>A comma-separated list of sizes, e.g. <c>--runs 1,50,500</c>.</summary>
    public IReadOnlyList<int> ReadInts(string name, IReadOnlyList<int> fallback)
    {
        var text = ReadString(name, null);
        return text is null ? fallback : [.. text.Split(',').Select(part => int.Parse(part, CultureInfo.InvariantCulture))];
    }

    /// <summary>A comma-separated list of names, e.g. <c>--modes relay,distributed</c>.</summary>
    public IReadOnlyList<string> ReadStrings(string name, IReadOnlyList<string> fallback) =>
        ReadString(name, null) is { } text ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : fallback;

    private string? ReadString(string name, string? fallback)
    {
        var index = Array.IndexOf(_args, name);
        return index >= 0 && index + 1 < _args.Length ? _args[index + 1] : fallback;
    }
}
