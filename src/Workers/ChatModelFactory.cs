using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.AzureOpenAI;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace AgentOrchestrator.Workers;

/// <summary>
/// Builds Semantic Kernel chat services for the configured provider. A service is bound to one model, and a step
/// may name its own, so services are made per step (cheap: a client object; connections are pooled by the
/// HttpClient factory's handlers).
/// </summary>
public sealed class ChatModelFactory(
    IOptions<ModelOptions> options, IHttpClientFactory httpClientFactory, ILoggerFactory loggerFactory)
{
    /// <summary>The named HttpClient model calls use; add handlers to it (auth, headers, resilience) with AddHttpClient(name).</summary>
    public const string HttpClientName = "AgentOrchestrator.Model";

    // Servers that need no key (simulator, Ollama) still get one: the OpenAI client insists on a non-empty key.
    private const string PlaceholderApiKey = "no-key";

    /// <summary>The chat service for <paramref name="model"/>; null uses the configured default model.</summary>
    public IChatCompletionService Create(string? model)
    {
        ModelOptions o = options.Value;
        string name = string.IsNullOrWhiteSpace(model) ? o.DefaultModel : model;
        string apiKey = string.IsNullOrEmpty(o.ApiKey) ? PlaceholderApiKey : o.ApiKey;
        // Passing our HttpClient also turns off the OpenAI client's own retries (Semantic Kernel sets MaxRetries 0 then):
        // a 429 or 503 must fail the attempt so that Temporal, not this process's memory, holds the wait.
        HttpClient httpClient = httpClientFactory.CreateClient(HttpClientName);
        return o.Provider switch
        {
            ModelProvider.AzureOpenAI => new AzureOpenAIChatCompletionService(
                name, o.Endpoint.ToString(), apiKey, modelId: null, httpClient, loggerFactory),
            _ => CreateOpenAICompatible(name, o.Endpoint, apiKey, httpClient),
        };
    }

    // SK 1.82 marks the custom-endpoint constructor experimental (SKEXP0010); it is the one that points the
    // connector at any OpenAI-compatible server (simulator, Ollama, vLLM), which the worker must support.
#pragma warning disable SKEXP0010
    private OpenAIChatCompletionService CreateOpenAICompatible(string model, Uri endpoint, string apiKey, HttpClient httpClient) =>
        new(model, endpoint, apiKey, httpClient: httpClient, loggerFactory: loggerFactory);
#pragma warning restore SKEXP0010
}
