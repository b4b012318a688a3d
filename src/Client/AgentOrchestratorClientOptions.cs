using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Client;

/// <summary>Where the gateway is, how to authenticate, and how to behave when the connection fails.</summary>
public sealed class AgentOrchestratorClientOptions
{
    /// <summary>The gateway's base address, e.g. <c>https://agents.example.com/</c> (a path prefix is kept).</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>
    /// Returns a bearer token (JWT) for each REST request and each hub connection; cache inside it if tokens are
    /// expensive. Set this or <see cref="ApiKey"/>, not both.
    /// </summary>
    public Func<CancellationToken, ValueTask<string>>? AccessTokenProvider { get; set; }

    /// <summary>A server-to-server API key, sent as the <c>X-Api-Key</c> header. Set this or <see cref="AccessTokenProvider"/>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How run events are streamed: the SignalR hub (default) or the plain WebSocket endpoint /v1/ws.</summary>
    public StreamTransport Transport { get; set; } = StreamTransport.SignalR;

    /// <summary>Backoff for reconnecting streams, connecting, and retrying starts the gateway could not take.</summary>
    public ReconnectOptions Reconnect { get; set; } = new();

    /// <summary>How often the client tells the gateway which event the consumer has processed (batched).</summary>
    public TimeSpan AckInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Timeout of one REST request.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);
}

/// <summary>Exponential backoff with full jitter: attempt n waits a uniformly random time in [0, min(MaxDelay, InitialDelay * 2^(n-1))].</summary>
public sealed class ReconnectOptions
{
    /// <summary>The upper bound of the first delay.</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The largest upper bound any delay can have (a server's Retry-After can still ask for longer).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Consecutive failed attempts (without an event delivered in between) before the client gives up.</summary>
    public int MaxAttempts { get; set; } = 10;
}

/// <summary>Rejects options the client cannot work with, naming the setting.</summary>
public sealed class AgentOrchestratorClientOptionsValidator : IValidateOptions<AgentOrchestratorClientOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AgentOrchestratorClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.BaseAddress is not { IsAbsoluteUri: true } address || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add("BaseAddress must be an absolute http or https URI.");
        }
        var hasKey = !string.IsNullOrWhiteSpace(options.ApiKey);
        if (options.AccessTokenProvider is null == !hasKey)
        {
            failures.Add("Set exactly one of AccessTokenProvider and ApiKey.");
        }
        var reconnect = options.Reconnect;
        if (reconnect is null)
        {
            failures.Add("Reconnect must be set.");
        }
        else
        {
            if (reconnect.InitialDelay <= TimeSpan.Zero)
            {
                failures.Add("Reconnect.InitialDelay must be positive.");
            }
            if (reconnect.MaxDelay < reconnect.InitialDelay)
            {
                failures.Add("Reconnect.MaxDelay must be at least Reconnect.InitialDelay.");
            }
            if (reconnect.MaxAttempts < 1)
            {
                failures.Add("Reconnect.MaxAttempts must be at least 1.");
            }
        }
        if (!Enum.IsDefined(options.Transport))
        {
            failures.Add("Transport must be SignalR or WebSocket.");
        }
        if (options.AckInterval <= TimeSpan.Zero)
        {
            failures.Add("AckInterval must be positive.");
        }
        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            failures.Add("RequestTimeout must be positive.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
