using System.Globalization;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// Distributed mode: the dev server, the model simulator, the worker and the gateway as four separate
/// processes, with run events crossing a real RabbitMQ broker.
/// </summary>
public sealed class DistributedModeTests(RabbitMqFixture rabbit) : IClassFixture<RabbitMqFixture>, IAsyncLifetime
{
    private readonly List<ServiceProcess> _processes = [];

    public Uri Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var temporalPort = ServiceProcess.FreePort();
        var simulatorUrl = $"http://127.0.0.1:{ServiceProcess.FreePort()}";
        Gateway = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
        var temporalTarget = $"127.0.0.1:{temporalPort}";
        var bus = new Dictionary<string, string>
        {
            ["Bus__Transport"] = "RabbitMq",
            ["Bus__RabbitMqUri"] = rabbit.Uri.ToString(),
            ["Temporal__Target"] = temporalTarget,
        };

        var devServer = Start("DevServer", ["--port", temporalPort.ToString(CultureInfo.InvariantCulture)], [], "listening on");
        var simulator = Start("ModelSimulator", ["--urls", simulatorUrl], [], "Now listening on");
        await Task.WhenAll(devServer.WaitReadyAsync(), simulator.WaitReadyAsync());
        var worker = Start("Workers", ["--urls", $"http://127.0.0.1:{ServiceProcess.FreePort()}"],
            new Dictionary<string, string>(bus) { ["Model__Endpoint"] = simulatorUrl + "/v1" }, "Application started");
        var gateway = Start("Gateway", ["--urls", Gateway.ToString().TrimEnd('/')],
            new Dictionary<string, string>(bus) { ["Auth__DevTokens"] = "true" }, "Application started");
        await Task.WhenAll(worker.WaitReadyAsync(), gateway.WaitReadyAsync());
    }

    private ServiceProcess Start(string project, string[] arguments, Dictionary<string, string> environment, string readyMarker)
    {
        var process = ServiceProcess.Start(project, arguments, environment, readyMarker);
        _processes.Add(process);
        return process;
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
    }

    [Fact]
    public async Task WriterReviewer_SeparateProcessesOverRabbitMq_StreamsEveryTokenOfBothStepsInOrderThenCompletes()
    {
        await using var client = await RunClient.ConnectAsync(Gateway, tenant: "tenant-distributed");

        var runId = await client.StartRunAsync("writer-reviewer", "What does a gateway add to token latency?");
        List<Contracts.RunEvent> events;
        try
        {
            events = await client.ReadAllEventsAsync(runId, TimeSpan.FromMinutes(2));
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("the run did not finish; process output:\n" + string.Join("\n\n", _processes.Select(p => $"== {p.Name}\n{p.Output}")));
        }
        var run = await client.WaitForRunEndAsync(runId);

        Assert.Equal("completed", run.GetProperty("status").GetString());
        RunAssertions.CompletedWithStreamedSteps(events, run.GetProperty("result").GetString()!);
    }
}
