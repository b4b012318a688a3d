using System.Collections.Concurrent;
using System.ComponentModel;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.ModelSimulator.Tests.Support;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace AgentOrchestrator.ModelSimulator.Tests;

/// <summary>The simulator as seen through the OpenAI client Semantic Kernel uses.</summary>
public sealed class SemanticKernelCompatibilityTests(InstantSimulatorFixture simulator)
    : IClassFixture<InstantSimulatorFixture>
{
    private const string ForecastDirective = "[[call:Weather-GetForecast {\"city\":\"Oslo\"}]]";

    [Fact]
    public async Task GetStreamingChatMessageContents_SamePrompt_ConcatenatesToNonStreamingText()
    {
        OpenAIChatCompletionService chat = CreateService();
        using CancellationTokenSource cts = TestTimeouts.Source();

        string streamed = await StreamTextAsync(chat, History("Plan the next step."), cts.Token);
        ChatMessageContent complete = await chat.GetChatMessageContentAsync(
            History("Plan the next step."), cancellationToken: cts.Token);

        Assert.False(string.IsNullOrWhiteSpace(streamed));
        Assert.Equal(complete.Content, streamed);
    }

    [Fact]
    public async Task GetChatMessageContent_SamePromptTwiceAndOtherPrompt_IsDeterministicPerPrompt()
    {
        OpenAIChatCompletionService chat = CreateService();
        using CancellationTokenSource cts = TestTimeouts.Source();

        string first = await StreamTextAsync(chat, History("Same prompt"), cts.Token);
        string again = await StreamTextAsync(chat, History("Same prompt"), cts.Token);
        string other = await StreamTextAsync(chat, History("Another prompt"), cts.Token);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task GetChatMessageContent_AutoInvokeWithCallDirective_InvokesFunctionAndAnswersWithItsResult()
    {
        var weather = new WeatherPlugin();
        Kernel kernel = KernelWith(weather);
        OpenAIChatCompletionService chat = CreateService();
        using CancellationTokenSource cts = TestTimeouts.Source();

        ChatMessageContent answer = await chat.GetChatMessageContentAsync(
            History($"What is the weather? {ForecastDirective}"), AutoInvoke(), kernel, cts.Token);

        Assert.Equal(["Oslo"], weather.Cities);
        Assert.StartsWith("Based on Sunny in Oslo, 21 C.", answer.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingChatMessageContents_AutoInvokeWithCallDirective_InvokesFunctionAndStreamsAnswer()
    {
        var weather = new WeatherPlugin();
        Kernel kernel = KernelWith(weather);
        OpenAIChatCompletionService chat = CreateService();
        using CancellationTokenSource cts = TestTimeouts.Source();

        var text = new StringBuilder();
        await foreach (StreamingChatMessageContent update in chat.GetStreamingChatMessageContentsAsync(
            History($"Stream the weather. {ForecastDirective}"), AutoInvoke(), kernel, cts.Token))
        {
            text.Append(update.Content);
        }

        Assert.Equal(["Oslo"], weather.Cities);
        Assert.StartsWith("Based on Sunny in Oslo, 21 C.", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingChatMessageContents_Request_AsksForUsageInStreamOptions()
    {
        using var recorder = new RequestRecorder();
        using var httpClient = new HttpClient(recorder);
        OpenAIChatCompletionService chat = CreateService(httpClient);
        using CancellationTokenSource cts = TestTimeouts.Source();

        await StreamTextAsync(chat, History("Record me."), cts.Token);

        using JsonDocument body = JsonDocument.Parse(Assert.Single(recorder.Bodies));
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
        Assert.True(body.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    // SK 1.82 marks the custom-endpoint constructor experimental (SKEXP0010); it is the one that points the
    // connector at an OpenAI-compatible server, which is exactly what is under test.
#pragma warning disable SKEXP0010
    private OpenAIChatCompletionService CreateService(HttpClient? httpClient = null) =>
        new("sim-1", new Uri(simulator.Server.BaseAddress, "v1"), apiKey: "sim", httpClient: httpClient);
#pragma warning restore SKEXP0010

    private static ChatHistory History(string userMessage)
    {
        var history = new ChatHistory();
        history.AddUserMessage(userMessage);
        return history;
    }

    private static OpenAIPromptExecutionSettings AutoInvoke() =>
        new() { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };

    private static Kernel KernelWith(WeatherPlugin weather)
    {
        Kernel kernel = new();
        kernel.Plugins.AddFromObject(weather, "Weather");
        return kernel;
    }

    private static async Task<string> StreamTextAsync(
        OpenAIChatCompletionService chat, ChatHistory history, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        await foreach (StreamingChatMessageContent update in chat.GetStreamingChatMessageContentsAsync(
            history, cancellationToken: cancellationToken))
        {
            text.Append(update.Content);
        }

        return text.ToString();
    }

    public sealed class WeatherPlugin
    {
        private readonly ConcurrentQueue<string> _cities = new();

        public IReadOnlyCollection<string> Cities => _cities;

        [KernelFunction, Description("Gets the forecast for a city.")]
        public string GetForecast([Description("City name")] string city)
        {
            _cities.Enqueue(city);
            return $"Sunny in {city}, 21 C";
        }
    }

    /// <summary>Keeps each request body, then forwards the request.</summary>
    private sealed class RequestRecorder() : DelegatingHandler(new SocketsHttpHandler())
    {
        public ConcurrentQueue<string> Bodies { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(
            HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is not null)
            {
                Bodies.Enqueue(await request.Content.ReadAsStringAsync(cancellationToken));
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
