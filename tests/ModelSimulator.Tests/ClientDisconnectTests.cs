using AgentOrchestrator.ModelSimulator.Tests.Support;

namespace AgentOrchestrator.ModelSimulator.Tests;

public sealed class ClientDisconnectTests
{
    [Fact]
    public async Task Streaming_ClientClosesMidStream_SimulatorCountsCanceledStream()
    {
        // Own server: the counter must not see other tests' streams.
        await using ModelSimulatorServer server = await ModelSimulatorServer.StartAsync(options => options.Instant = true);
        // No draining on dispose: closing the response closes the connection at once.
        using var handler = new SocketsHttpHandler { MaxResponseDrainSize = 0 };
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TestTimeouts.Request };
        using CancellationTokenSource cts = TestTimeouts.Source();

        using (HttpResponseMessage response = await ChatRequests.SendAsync(
            client, ChatRequests.User("A long answer, slowly.").Streaming(), fault: "trickle:200", cancellationToken: cts.Token))
        {
            SseTranscript partial = await SseTranscript.ReadAsync(
                response, cts.Token, stopWhen: t => t.ContentChunks.Count >= 2);
            Assert.Equal(2, partial.ContentChunks.Count);
        }

        bool seen = await Eventually.TrueAsync(
            async () => (await ChatRequests.GetStatsAsync(client, cts.Token)).GetProperty("canceledStreams").GetInt64() == 1,
            TimeSpan.FromSeconds(10));

        Assert.True(seen, "The simulator did not notice the client closing the stream.");
        Assert.Equal(0, server.Metrics.CompletedStreams);
    }
}
