using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentOrchestrator.ModelSimulator.Tests.Support;

namespace AgentOrchestrator.ModelSimulator.Tests;

public sealed class ToolCallTests(InstantSimulatorFixture simulator) : IClassFixture<InstantSimulatorFixture>
{
    private const string WeatherArguments = "{\"city\":\"Oslo\",\"unit\":\"celsius\"}";

    private HttpClient Client => simulator.Client;

    [Fact]
    public async Task Streaming_CallDirective_StreamsToolCallDeltasLikeOpenAI()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        JsonObject request = ChatRequests.User($"Weather? [[call:get_weather {WeatherArguments}]]")
            .WithTools("get_weather", "get_time").Streaming(includeUsage: true);
        using HttpResponseMessage response = await ChatRequests.SendAsync(Client, request, cancellationToken: cts.Token);

        SseTranscript transcript = await SseTranscript.ReadAsync(response, cts.Token);

        Assert.True(transcript.EndsWithDone);
        List<JsonElement> chunks = transcript.Chunks;
        JsonElement firstDelta = chunks[0].GetProperty("choices")[0].GetProperty("delta");
        Assert.Equal("assistant", firstDelta.GetProperty("role").GetString());
        JsonElement header = Assert.Single(firstDelta.GetProperty("tool_calls").EnumerateArray());
        Assert.Equal(0, header.GetProperty("index").GetInt32());
        Assert.StartsWith("call_", header.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("function", header.GetProperty("type").GetString());
        Assert.Equal("get_weather", header.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal(string.Empty, header.GetProperty("function").GetProperty("arguments").GetString());

        var arguments = new StringBuilder();
        for (int i = 1; i < chunks.Count - 2; i++)
        {
            JsonElement fragment = Assert.Single(
                chunks[i].GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls").EnumerateArray());
            Assert.Equal(0, fragment.GetProperty("index").GetInt32());
            Assert.False(fragment.TryGetProperty("id", out _));
            arguments.Append(fragment.GetProperty("function").GetProperty("arguments").GetString());
        }

        Assert.True(chunks.Count > 4, "Arguments should arrive in several fragments.");
        Assert.Equal(WeatherArguments, arguments.ToString());
        Assert.Equal("tool_calls", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
    }

    [Fact]
    public async Task NonStreaming_TwoDirectives_ReturnsTwoToolCallsWithDistinctIds()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        JsonObject request = ChatRequests.User($"[[call:get_weather {WeatherArguments}]] and [[call:get_time]]")
            .WithTools("get_weather", "get_time");
        using HttpResponseMessage response = await ChatRequests.SendAsync(Client, request, cancellationToken: cts.Token);

        JsonElement choice = (await ChatRequests.ReadJsonAsync(response, cts.Token)).GetProperty("choices")[0];

        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        JsonElement message = choice.GetProperty("message");
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        JsonElement[] calls = [.. message.GetProperty("tool_calls").EnumerateArray()];
        Assert.Equal(2, calls.Length);
        Assert.Equal("get_weather", calls[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal(WeatherArguments, calls[0].GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("get_time", calls[1].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{}", calls[1].GetProperty("function").GetProperty("arguments").GetString());
        Assert.NotEqual(calls[0].GetProperty("id").GetString(), calls[1].GetProperty("id").GetString());
    }

    [Fact]
    public async Task NonStreaming_DirectiveForUndeclaredTool_AnswersWithText()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        JsonObject request = ChatRequests.User("[[call:launch_rockets {}]]").WithTools("get_weather");
        using HttpResponseMessage response = await ChatRequests.SendAsync(Client, request, cancellationToken: cts.Token);

        JsonElement choice = (await ChatRequests.ReadJsonAsync(response, cts.Token)).GetProperty("choices")[0];

        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
        Assert.NotEmpty(choice.GetProperty("message").GetProperty("content").GetString()!);
    }

    [Fact]
    public async Task NonStreaming_LastMessageIsToolResult_AnswersQuotingTheResult()
    {
        using CancellationTokenSource cts = TestTimeouts.Source();
        var request = new JsonObject
        {
            ["model"] = "sim-1",
            ["tools"] = ChatRequests.User("x").WithTools("get_weather")["tools"]!.DeepClone(),
            ["messages"] = new JsonArray(
                ChatRequests.Message("user", $"[[call:get_weather {WeatherArguments}]]"),
                new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = null,
                    ["tool_calls"] = new JsonArray(new JsonObject
                    {
                        ["id"] = "call_1",
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = WeatherArguments },
                    }),
                },
                new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_1", ["content"] = "Sunny, 21 degrees" }),
        };
        using HttpResponseMessage response = await ChatRequests.SendAsync(Client, request, cancellationToken: cts.Token);

        JsonElement choice = (await ChatRequests.ReadJsonAsync(response, cts.Token)).GetProperty("choices")[0];

        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.StartsWith(
            "Based on Sunny, 21 degrees.", choice.GetProperty("message").GetProperty("content").GetString(),
            StringComparison.Ordinal);
    }
}
