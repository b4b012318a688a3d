using System.Globalization;
using System.Net;
using AgentOrchestrator.DevServer;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests.Telemetry;

/// <summary>
/// The worker process's /readyz follows its dependencies: 503 while its RabbitMQ broker (a private node, stopped with
/// rabbitmqctl stop_app) or its Temporal server (an in-process dev server, stopped and started again on its port) is
/// down, 200 again once it is back; /healthz stays 200 throughout.
/// </summary>
public sealed class WorkerReadinessTests
{
    [Fact]
    public async Task Readyz_BrokerThenLogThenTemporalDownAndBack_UnavailableThenReadyAgain()
    {
        await using var broker = await PrivateRabbitMqNode.StartAsync();
        await using var redis = await RedisServer.StartAsync();
        var temporalPort = ServiceProcess.FreePort();
        DevServerHost? temporal = await DevServerHost.StartAsync(new DevServerOptions { Port = temporalPort, Namespace = "default" });
        var url = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
        var unique = Guid.NewGuid().ToString("N")[..12];
        await using var worker = ServiceProcess.Start("Workers", ["--urls", url.ToString().TrimEnd('/')], new Dictionary<string, string>
        {
            ["Bus__Transport"] = "RabbitMq",
            ["Bus__RabbitMqUri"] = broker.Uri.ToString(),
            ["RunEvents__Live__Exchange"] = $"test-run-events-live-{unique}",
            ["RunEvents__Log__Store"] = "Redis",
            ["RunEvents__Log__Redis"] = redis.Configuration,
            ["Temporal__Target"] = $"127.0.0.1:{temporalPort.ToString(CultureInfo.InvariantCulture)}",
        }, "Application started");
        try
        {
            await worker.WaitReadyAsync();
            using var http = new HttpClient { BaseAddress = url };
            await WaitForAsync(http, HttpStatusCode.OK, "ready with broker and Temporal up", worker);

            await broker.StopAppAsync();
            await WaitForAsync(http, HttpStatusCode.ServiceUnavailable, "not ready while the broker is down", worker);
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, "/healthz"));
            await broker.StartAppAsync();
            await WaitForAsync(http, HttpStatusCode.OK, "ready again after the broker came back", worker);

            await redis.StopAsync();
            await WaitForAsync(http, HttpStatusCode.ServiceUnavailable, "not ready while the run-event log is down", worker);
            await redis.RestartAsync();
            await WaitForAsync(http, HttpStatusCode.OK, "ready again after the run-event log came back", worker);

            await temporal.DisposeAsync();
            temporal = null;
            await WaitForAsync(http, HttpStatusCode.ServiceUnavailable, "not ready while Temporal is down", worker);
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, "/healthz"));
            temporal = await DevServerHost.StartAsync(new DevServerOptions { Port = temporalPort, Namespace = "default" });
            await WaitForAsync(http, HttpStatusCode.OK, "ready again after Temporal came back", worker);
        }
        finally
        {
            if (temporal is not null)
            {
                await temporal.DisposeAsync();
            }
        }
    }

    private static Task WaitForAsync(HttpClient http, HttpStatusCode expected, string because, ServiceProcess worker) =>
        Eventually.TrueAsync(async () => await StatusAsync(http, "/readyz") == expected, TimeSpan.FromSeconds(120), $"{because}:\n{worker.Output}");

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        return response.StatusCode;
    }
}
