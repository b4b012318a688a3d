using System.Text.Json;
using AgentOrchestrator.ModelSimulator.Tests.Support;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.ModelSimulator.Tests;

public sealed class ModelSimulatorServerTests
{
    [Fact]
    public async Task StartAsync_Defaults_ListensOnLoopbackWithTrailingSlash()
    {
        await using ModelSimulatorServer server = await ModelSimulatorServer.StartAsync();

        Assert.Equal("127.0.0.1", server.BaseAddress.Host);
        Assert.NotEqual(0, server.BaseAddress.Port);
        Assert.EndsWith("/", server.BaseAddress.AbsoluteUri, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, 40, 80)]
    [InlineData(60.0, 0, 80)]
    [InlineData(60.0, 50, 40)]
    public async Task StartAsync_InvalidOptions_FailsValidation(double tokensPerSecond, int min, int max)
    {
        await Assert.ThrowsAsync<OptionsValidationException>(() => ModelSimulatorServer.StartAsync(options =>
        {
            options.TokensPerSecond = tokensPerSecond;
            options.MinAnswerTokens = min;
            options.MaxAnswerTokens = max;
        }));
    }

    [Fact]
    public async Task DisposeAsync_DuringSlowStream_EndsTheStreamWithoutDone()
    {
        ModelSimulatorServer server = await ModelSimulatorServer.StartAsync(options => options.Instant = true);
        using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TestTimeouts.Request };
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            client, ChatRequests.User("Very slow.").Streaming(), fault: "trickle:60000", cancellationToken: cts.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));

        // The first token comes at once (no ttft); the next would take a minute, unless shutdown ends the stream.
        while (await reader.ReadLineAsync(cts.Token) is string line && !IsContentToken(line))
        {
        }

        Task stopping = server.DisposeAsync().AsTask();
        var rest = new List<string>();
        try
        {
            while (await reader.ReadLineAsync(cts.Token) is string line)
            {
                rest.Add(line);
            }
        }
        catch (IOException)
        {
            // An aborted connection is one acceptable way for the stream to end.
        }

        await stopping;
        Assert.DoesNotContain(rest, line => line.StartsWith("data: ", StringComparison.Ordinal));
    }

    private static bool IsContentToken(string line)
    {
        if (!line.StartsWith("data: {", StringComparison.Ordinal))
        {
            return false;
        }

        using var chunk = JsonDocument.Parse(line["data: ".Length..]);
        return SseTranscript.ContentOf(chunk.RootElement).Length > 0;
    }
}
