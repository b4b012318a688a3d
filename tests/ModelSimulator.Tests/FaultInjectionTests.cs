using System.Net;
using System.Text.Json;
using AgentOrchestrator.ModelSimulator.Tests.Support;

namespace AgentOrchestrator.ModelSimulator.Tests;

public sealed class FaultInjectionTests(InstantSimulatorFixture simulator) : IClassFixture<InstantSimulatorFixture>
{
    private HttpClient Client => simulator.Client;

    [Fact]
    public async Task Fault429_Header_Returns429WithRetryAfterOneSecond()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            Client, ChatRequests.User("hi"), fault: "429", cancellationToken: cts.Token);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        JsonElement error = (await ChatRequests.ReadJsonAsync(response, cts.Token)).GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Fault429WithRetry_ModelSuffix_UsesCustomRetryAfter()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            Client, ChatRequests.User("hi", model: "sim-1@429:retry=3").Streaming(), cancellationToken: cts.Token);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Fault500_Header_Returns500WithServerErrorBody()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            Client, ChatRequests.User("hi"), fault: "500", cancellationToken: cts.Token);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        JsonElement error = (await ChatRequests.ReadJsonAsync(response, cts.Token)).GetProperty("error");
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task FaultCut_Streaming_SendsExactlyNTokensThenEndsWithoutFinishOrDone()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        long cutsBefore = simulator.Server.Metrics.CutStreams;
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            Client, ChatRequests.User("Tell a long story.", model: "sim-1@cut:5").Streaming(includeUsage: true),
            cancellationToken: cts.Token);

        SseTranscript transcript = await SseTranscript.ReadAsync(response, cts.Token);

        Assert.Equal(0, transcript.DoneCount);
        Assert.Equal(5, transcript.ContentChunks.Count);
        Assert.Equal(6, transcript.Chunks.Count);
        Assert.All(transcript.Chunks, chunk =>
            Assert.Equal(JsonValueKind.Null, chunk.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        Assert.NotNull(transcript.ReadError);
        Assert.Equal(cutsBefore + 1, simulator.Server.Metrics.CutStreams);
    }

    [Fact]
    public async Task FaultCut_NonStreaming_AbortsConnectionWithoutResponse()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();

        await Assert.ThrowsAnyAsync<HttpRequestException>(async () =>
        {
            using HttpResponseMessage response = await ChatRequests.SendAsync(
                Client, ChatRequests.User("hi"), fault: "cut:3", cancellationToken: cts.Token);
        });
    }

    [Fact]
    public async Task FaultTrickle_Streaming_SpacesServerEmitTimesByTheInterval()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            Client, ChatRequests.User("Slowly please.").With("max_tokens", 4).Streaming(), fault: "trickle:200",
            cancellationToken: cts.Token);

        SseTranscript transcript = await SseTranscript.ReadAsync(response, cts.Token);

        Assert.True(transcript.EndsWithDone);
        List<JsonElement> tokens = transcript.ContentChunks;
        Assert.Equal(4, tokens.Count);
        for (int i = 1; i < tokens.Count; i++)
        {
            // Server-side stamps of a server-side delay: at least the interval, less some timer slack.
            long gap = EmittedAt(tokens[i]) - EmittedAt(tokens[i - 1]);
            Assert.True(gap >= 150_000, $"Gap between tokens {i - 1} and {i} was only {gap} µs.");
        }
    }

    [Fact]
    public async Task FaultTtft_Streaming_DelaysFirstTokenAfterRequestStart()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            Client, ChatRequests.User("Think first.").With("max_tokens", 2).Streaming(), fault: "ttft:300",
            cancellationToken: cts.Token);
        long startedAt = long.Parse(response.Headers.GetValues("X-Simulator-Started-At-Us").Single());

        SseTranscript transcript = await SseTranscript.ReadAsync(response, cts.Token);

        Assert.True(transcript.EndsWithDone);
        long firstToken = EmittedAt(transcript.ContentChunks[0]);
        Assert.True(firstToken - startedAt >= 250_000, $"First token after only {firstToken - startedAt} µs.");
    }

    [Fact]
    public async Task FaultInstant_ModelSuffixOnSlowServer_SkipsConfiguredDelays()
    {
        // Configured delays far longer than the test's timeout: only "instant" lets this finish.
        await using ModelSimulatorServer slow = await ModelSimulatorServer.StartAsync(options =>
        {
            options.TimeToFirstToken = TimeSpan.FromMinutes(5);
            options.TokensPerSecond = 0.01;
        });
        using var client = new HttpClient { BaseAddress = slow.BaseAddress, Timeout = TestTimeouts.Request };
        using CancellationTokenSource cts = TestTimeouts.Source();

        using HttpResponseMessage response = await ChatRequests.SendAsync(
            client, ChatRequests.User("hi", model: "sim-1@instant").Streaming(), cancellationToken: cts.Token);
        SseTranscript transcript = await SseTranscript.ReadAsync(response, cts.Token);

        Assert.True(transcript.EndsWithDone);
        Assert.NotEmpty(transcript.Text);
        Assert.Equal("sim-1", transcript.Chunks[0].GetProperty("model").GetString());
    }

    [Fact]
    public async Task FaultSpecs_CommaSeparatedHeader_AppliesAll()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            Client, ChatRequests.User("Both at once.").Streaming(), fault: "instant, cut:2", cancellationToken: cts.Token);

        SseTranscript transcript = await SseTranscript.ReadAsync(response, cts.Token);

        Assert.Equal(2, transcript.ContentChunks.Count);
        Assert.Equal(0, transcript.DoneCount);
    }

    [Theory]
    [InlineData("explode", null)]
    [InlineData(null, "sim-1@cut:many")]
    [InlineData("instant,trickle:", null)]
    public async Task UnknownFaultSpec_HeaderOrModel_Returns400NamingTheSpec(string? header, string? model)
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            Client, ChatRequests.User("hi", model: model ?? "sim-1"), fault: header, cancellationToken: cts.Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement error = (await ChatRequests.ReadJsonAsync(response, cts.Token)).GetProperty("error");
        Assert.Equal("invalid_fault_spec", error.GetProperty("code").GetString());
        string badSpec = header?.Split(',')[^1] ?? model!.Split('@')[^1];
        Assert.Contains($"'{badSpec}'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailFirst_TwoForKey_Returns500Then500Then200()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        string fault = $"fail-first:2:{Guid.NewGuid():N}";
        var statuses = new List<HttpStatusCode>();
        for (int attempt = 0; attempt < 3; attempt++)
        {
            using HttpResponseMessage response = await ChatRequests.SendAsync(
                Client, ChatRequests.User("retry me"), fault, cts.Token);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.InternalServerError, HttpStatusCode.InternalServerError, HttpStatusCode.OK], statuses);
    }

    private static long EmittedAt(JsonElement chunk) => chunk.GetProperty("x_emitted_at_us").GetInt64();
}
