using System.Globalization;
using System.Net.Sockets;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Gateway.Tests.WebSockets;

/// <summary>A /v1/ws subscriber that stops reading: its queue stays bounded, its subscription ends with slow_consumer, and it resumes exactly.</summary>
[Collection(GatewayTestGroup.Name)]
public sealed class RunWebSocketSlowConsumerTests(GatewayFixture fixture)
{
    private const int Tokens = 400;
    private const int TokenChars = 32 * 1024;

    [Fact]
    public async Task StalledReader_EndsWithSlowConsumer_ThenResumesFromItsCursorExactly()
    {
        await using var host = await GatewayTestHost.StartAsync(fixture.DevServer.Target, settings: new Dictionary<string, string?>
        {
            ["Gateway:Delivery:SoftLimitBytes"] = (64 * 1024).ToString(CultureInfo.InvariantCulture),
            ["Gateway:Delivery:HardLimitBytes"] = (256 * 1024).ToString(CultureInfo.InvariantCulture),
        });
        var tenant = GatewayFixture.NewTenant();
        var token = await DevTokens.IssueAsync(host.Address, tenant, "tester");
        using var http = new HttpClient { BaseAddress = host.Address };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        using var started = await http.PostAsync(new Uri("v1/runs", UriKind.Relative),
            System.Net.Http.Json.JsonContent.Create(new { flow = Flows.WriterReviewer, input = "stall" }));
        var run = new RunScript(tenant, System.Text.Json.JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("runId").GetString()!);
        await host.Services.PublishRunEventsAsync(run.Message(run.RunStarted()));
        using var invoker = new HttpMessageInvoker(SmallReceiveWindow());
        await using var socket = await WebSocketTestClient.ConnectAsync(host.Address, token, invoker: invoker);
        await socket.SendAsync(new { type = "subscribe", runId = run.RunId });
        Assert.Equal("subscribed", WebSocketTestClient.TypeOf(await socket.NextAsync()));
        var transcript = new ClientTranscript();
        transcript.Apply(WebSocketTestClient.EventOf(await socket.NextAsync()));

        // The client reads nothing while far more than the hard limit (and the sockets' buffers) is published.
        var texts = Enumerable.Range(0, Tokens).Select(i => $"{i:D5}" + new string((char)('a' + (i % 26)), TokenChars - 5)).ToArray();
        await host.Services.PublishRunEventsAsync(run.Message(run.Started("writer", 1)));
        for (var i = 0; i < Tokens; i++)
        {
            await host.Services.PublishRunEventsAsync(run.Message(run.Token("writer", 1, i, texts[i])));
        }
        await host.Services.PublishRunEventsAsync(run.Message(run.Completed("writer", 1, Tokens, string.Concat(texts)), run.RunCompleted()));
        var ended = await socket.ReceiveUntilAsync("end", run.RunId);
        WebSocketTestClient.EventsOf(ended).ForEach(transcript.Apply);
        Assert.Equal("slow_consumer", ended[^1].GetProperty("code").GetString());
        // Told it is too slow, the client resumes on an ordinary connection (the 4 KB window would make the rest crawl).
        await using var resumed = await WebSocketTestClient.ConnectAsync(host.Address, token);
        await resumed.SendAsync(new { type = "subscribe", runId = run.RunId, cursor = transcript.Cursor });
        Assert.Equal("subscribed", WebSocketTestClient.TypeOf(await resumed.NextAsync()));
        WebSocketTestClient.EventsOf(await resumed.ReceiveUntilAsync("end", run.RunId)).ForEach(transcript.Apply);
        Assert.Equal("writer=" + string.Concat(texts), transcript.Render());
        Assert.Equal(0, transcript.Resets);
    }

    /// <summary>A 4 KB receive buffer: the kernel cannot absorb the backlog, so the gateway's writes really wait.</summary>
    private static SocketsHttpHandler SmallReceiveWindow() => new()
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
