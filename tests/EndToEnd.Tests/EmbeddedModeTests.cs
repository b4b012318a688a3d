namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>The one-command embedded mode (src/Standalone) as a person runs it, driven by a SignalR client.</summary>
public sealed class EmbeddedModeTests : IAsyncLifetime
{
    private ServiceProcess? _standalone;

    public Uri Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var port = ServiceProcess.FreePort();
        Gateway = new Uri($"http://127.0.0.1:{port}");
        _standalone = ServiceProcess.Start("Standalone",
            ["--urls", Gateway.ToString().TrimEnd('/'), "--DevServer:Port", ServiceProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new Dictionary<string, string>(), readyMarker: "is ready");
        await _standalone.WaitReadyAsync();
    }

    public async Task DisposeAsync()
    {
        if (_standalone is not null)
        {
            await _standalone.DisposeAsync();
        }
    }

    [Fact]
    public async Task WriterReviewer_Embedded_StreamsEveryTokenOfBothStepsInOrderThenCompletes()
    {
        await using var client = await RunClient.ConnectAsync(Gateway, tenant: "tenant-embedded");

        var runId = await client.StartRunAsync("writer-reviewer", "Explain why durable workflows help AI agents.");
        var events = await client.ReadAllEventsAsync(runId, TimeSpan.FromMinutes(2));
        var run = await client.WaitForRunEndAsync(runId);

        Assert.Equal("completed", run.GetProperty("status").GetString());
        RunAssertions.CompletedWithStreamedSteps(events, run.GetProperty("result").GetString()!);
    }
}
