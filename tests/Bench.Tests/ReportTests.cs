using System.Text.Json;

namespace AgentOrchestrator.Bench.Tests;

/// <summary>--json FILE: the tables a scenario prints, as a JSON array of rows keyed by the tables' column names.</summary>
public sealed class ReportTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("bench-json-").FullName;

    [Fact]
    public void Table_JsonFile_WritesEveryRowOfEveryTableKeyedByItsColumns()
    {
        var file = Path.Combine(_directory, "tables.json");
        Report.JsonFile = file;
        Report.Scenario = "example";

        Report.Table(["mode", "p50 ms", "deltas"], [["relay", "1.25", "1,234"], ["embedded", "n/a", "-"]]);
        Report.Table(["hop", "note"], [["gateway.written", "from gateway.enqueued"]], name: "example hops");

        using var json = JsonDocument.Parse(File.ReadAllText(file));
        var rows = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal("example", rows[0].GetProperty("table").GetString());
        Assert.Equal("relay", rows[0].GetProperty("mode").GetString());
        Assert.Equal(1.25, rows[0].GetProperty("p50 ms").GetDouble());
        Assert.Equal(1234, rows[0].GetProperty("deltas").GetDouble());
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("p50 ms").ValueKind);
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("deltas").ValueKind);
        Assert.Equal("example hops", rows[2].GetProperty("table").GetString());
        Assert.Equal("from gateway.enqueued", rows[2].GetProperty("note").GetString());
    }

    [Fact]
    public async Task RunAsync_DevServerSmokeWithJson_WritesItsTableAsJsonRows()
    {
        var file = Path.Combine(_directory, "devserver.json");

        var exit = await BenchCommand.RunAsync(["devserver", "--smoke", "--json", file, "--results", _directory]);

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(File.ReadAllText(file));
        var rows = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, rows.Count); // the 1- and 3-activity workflows
        foreach (var row in rows)
        {
            Assert.Equal("devserver", row.GetProperty("table").GetString());
            Assert.Equal(20, row.GetProperty("workflows").GetDouble());
            Assert.True(row.GetProperty("workflows/s").GetDouble() > 0);
            Assert.Equal(JsonValueKind.String, row.GetProperty("scenario").ValueKind);
        }
    }

    public void Dispose()
    {
        Report.JsonFile = null;
        Directory.Delete(_directory, recursive: true);
    }
}
