using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentOrchestrator.ModelSimulator.Tests.Support;

namespace AgentOrchestrator.ModelSimulator.Tests;

public sealed class ChatCompletionsEndpointTests(InstantSimulatorFixture simulator) : IClassFixture<InstantSimulatorFixture>
{
    private HttpClient Client => simulator.Client;

    [Fact]
    public async Task PostChatCompletions_NonStreaming_ReturnsOpenAICompletionShape()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            Client, ChatRequests.User("Describe the plan.", model: "sim-1@instant"), cancellationToken: cts.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.Contains("X-Simulator-Started-At-Us"));
        JsonElement body = await ChatRequests.ReadJsonAsync(response, cts.Token);
        Assert.StartsWith("chatcmpl-", body.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.True(body.GetProperty("created").GetInt64() > 0);
        Assert.Equal("sim-1", body.GetProperty("model").GetString());
        JsonElement choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        string content = choice.GetProperty("message").GetProperty("content").GetString()!;
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());

        JsonElement usage = body.GetProperty("usage");
        int completionTokens = usage.GetProperty("completion_tokens").GetInt32();
        Assert.InRange(completionTokens, 40, 80);
        Assert.Equal(completionTokens, content.Split(' ').Length);
        Assert.True(usage.GetProperty("prompt_tokens").GetInt32() > 0);
        Assert.Equal(
            usage.GetProperty("prompt_tokens").GetInt32() + completionTokens,
            usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task PostChatCompletions_StreamingWithUsage_EmitsOpenAIChunkSequence()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            Client, ChatRequests.User("Summarise the history.").Streaming(includeUsage: true), cancellationToken: cts.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        long startedAt = long.Parse(response.Headers.GetValues("X-Simulator-Started-At-Us").Single());

        SseTranscript transcript = await SseTranscript.ReadAsync(response, cts.Token);

        Assert.Null(transcript.ReadError);
        Assert.True(transcript.EndsWithDone);
        Assert.Equal(1, transcript.DoneCount);
        List<JsonElement> chunks = transcript.Chunks;
        string id = chunks[0].GetProperty("id").GetString()!;
        foreach (JsonElement chunk in chunks)
        {
            Assert.Equal("chat.completion.chunk", chunk.GetProperty("object").GetString());
            Assert.Equal(id, chunk.GetProperty("id").GetString());
            Assert.Equal("sim-1", chunk.GetProperty("model").GetString());
        }

        JsonElement first = chunks[0].GetProperty("choices")[0];
        Assert.Equal("assistant", first.GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal(string.Empty, first.GetProperty("delta").GetProperty("content").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("finish_reason").ValueKind);

        JsonElement finish = chunks[^2].GetProperty("choices")[0];
        Assert.Equal("stop", finish.GetProperty("finish_reason").GetString());
        Assert.Empty(finish.GetProperty("delta").EnumerateObject());

        JsonElement usageChunk = chunks[^1];
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        int contentChunks = transcript.ContentChunks.Count;
        Assert.Equal(chunks.Count - 3, contentChunks);
        Assert.Equal(contentChunks, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        long previous = startedAt;
        foreach (JsonElement chunk in chunks)
        {
            long emittedAt = chunk.GetProperty("x_emitted_at_us").GetInt64();
            Assert.True(emittedAt >= previous, $"x_emitted_at_us went backwards: {emittedAt} < {previous}");
            previous = emittedAt;
        }
    }

    [Fact]
    public async Task PostChatCompletions_StreamingWithoutIncludeUsage_SendsNoUsageChunk()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            Client, ChatRequests.User("No usage please.").Streaming(), cancellationToken: cts.Token);

        SseTranscript transcript = await SseTranscript.ReadAsync(response, cts.Token);

        Assert.True(transcript.EndsWithDone);
        Assert.All(transcript.Chunks, chunk =>
        {
            Assert.Equal(1, chunk.GetProperty("choices").GetArrayLength());
            Assert.False(chunk.TryGetProperty("usage", out _));
        });
        Assert.Equal("stop", transcript.Chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task PostChatCompletions_SameRequestStreamedAndNot_ReturnsSameText()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage plain = await ChatRequests.SendAsync(
            Client, ChatRequests.User("Same words twice?"), cancellationToken: cts.Token);
        string plainText = (await ChatRequests.ReadJsonAsync(plain, cts.Token))
            .GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

        using HttpResponseMessage streamed = await ChatRequests.SendAsync(
            Client, ChatRequests.User("Same words twice?").Streaming(), fault: "trickle:0", cancellationToken: cts.Token);
        SseTranscript transcript = await SseTranscript.ReadAsync(streamed, cts.Token);

        Assert.NotEmpty(plainText);
        Assert.Equal(plainText, transcript.Text);
    }

    [Fact]
    public async Task PostChatCompletions_DifferentSeedField_ReturnsDifferentText()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        string first = await ContentAsync(ChatRequests.User("Seeded").With("seed", 1), cts.Token);
        string again = await ContentAsync(ChatRequests.User("Seeded").With("seed", 1), cts.Token);
        string other = await ContentAsync(ChatRequests.User("Seeded").With("seed", 2), cts.Token);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task PostChatCompletions_MaxTokensBelowAnswerLength_StopsWithFinishReasonLength()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendAsync(
            Client, ChatRequests.User("Be brief.").With("max_tokens", 3).Streaming(), cancellationToken: cts.Token);

        SseTranscript transcript = await SseTranscript.ReadAsync(response, cts.Token);

        Assert.Equal(3, transcript.ContentChunks.Count);
        Assert.Equal("length", transcript.Chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task PostChatCompletions_MalformedJson_Returns400WithOpenAIError()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendRawAsync(
            Client, "{\"model\": \"sim-1\", \"messages\": [", cancellationToken: cts.Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement error = (await ChatRequests.ReadJsonAsync(response, cts.Token)).GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("invalid_json", error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    [Theory]
    [InlineData("{\"model\":\"sim-1\"}", "missing_required_parameter")]
    [InlineData("{\"model\":\"sim-1\",\"messages\":[]}", "missing_required_parameter")]
    [InlineData("{\"model\":\"sim-1\",\"messages\":[{\"content\":\"no role\"}]}", "invalid_value")]
    [InlineData("{\"model\":\"sim-1\",\"messages\":\"not a list\"}", "invalid_json")]
    public async Task PostChatCompletions_InvalidMessages_Returns400WithCode(string body, string expectedCode)
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        using HttpResponseMessage response = await ChatRequests.SendRawAsync(Client, body, cancellationToken: cts.Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement error = (await ChatRequests.ReadJsonAsync(response, cts.Token)).GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(expectedCode, error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task GetStats_AfterRequests_CountsThemInCamelCase()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        long before = (await ChatRequests.GetStatsAsync(Client, cts.Token)).GetProperty("requests").GetInt64();
        await ContentAsync(ChatRequests.User("Count me."), cts.Token);

        JsonElement stats = await ChatRequests.GetStatsAsync(Client, cts.Token);

        Assert.True(stats.GetProperty("requests").GetInt64() >= before + 1);
        Assert.True(stats.TryGetProperty("canceledStreams", out _));
        Assert.True(stats.TryGetProperty("completedStreams", out _));
        Assert.True(stats.TryGetProperty("cutStreams", out _));
    }

    private async Task<string> ContentAsync(JsonObject request, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await ChatRequests.SendAsync(Client, request, cancellationToken: cancellationToken);
        response.EnsureSuccessStatusCode();
        JsonElement body = await ChatRequests.ReadJsonAsync(response, cancellationToken);
        return body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }
}
