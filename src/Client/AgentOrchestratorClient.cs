using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Client;

/// <summary>
/// The gateway's .NET client: starts runs over REST (idempotently, retrying what the gateway could not take) and
/// streams their events over one shared connection (SignalR, or the plain WebSocket endpoint when asked), each exactly once and in order, across reconnects,
/// gateway restarts and step retries. Thread-safe; one instance per gateway and identity, disposed at the end.
/// </summary>
public sealed class AgentOrchestratorClient : IAsyncDisposable
{
    /// <summary>The header an API key travels in.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    private const string IdempotencyKeyHeader = "Idempotency-Key";
    private readonly AgentOrchestratorClientOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly IRunEventChannel _events;
    private bool _disposed;

    /// <summary>A client with <paramref name="options"/> (validated: an invalid setting throws <see cref="OptionsValidationException"/>).</summary>
    public AgentOrchestratorClient(AgentOrchestratorClientOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var validation = new AgentOrchestratorClientOptionsValidator().Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(AgentOrchestratorClientOptions), validation.Failures);
        }
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<AgentOrchestratorClient>();
        Reconnect = new ReconnectPolicy(options.Reconnect);
        var baseAddress = options.BaseAddress!.AbsoluteUri.EndsWith('/') ? options.BaseAddress : new Uri(options.BaseAddress.AbsoluteUri + "/");
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = options.RequestTimeout };
        _events = options.Transport == StreamTransport.WebSocket
            ? new WebSocketRunEventChannel(baseAddress, options, Reconnect, _logger)
            : new HubRunEventChannel(baseAddress, options, Reconnect, _loggerFactory);
    }

    /// <summary>The backoff this client applies (from <see cref="AgentOrchestratorClientOptions.Reconnect"/>).</summary>
    public ReconnectPolicy Reconnect { get; }

    /// <summary>
    /// Starts <paramref name="flow"/> with <paramref name="input"/>. The idempotency key (a new one when not given)
    /// makes the client's own retries safe: the gateway starts at most one run per key and tenant. Busy or
    /// unreachable gateways are retried with backoff; quota, validation and auth errors are thrown typed.
    /// </summary>
    public async Task<StartedRun> StartRunAsync(string flow, string input, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(flow);
        ArgumentNullException.ThrowIfNull(input);
        var key = idempotencyKey ?? Guid.NewGuid().ToString("N");
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "v1/runs")
            {
                Content = JsonContent.Create(new CreateRunBody(flow, input), ClientJsonContext.Default.CreateRunBody),
            };
            request.Headers.Add(IdempotencyKeyHeader, key);
            return request;
        }, runId: null, $"start {flow}", cancellationToken);
        var answer = await response.Content.ReadFromJsonAsync(ClientJsonContext.Default.CreateRunAnswer, cancellationToken)
            ?? throw new AgentOrchestratorException(ErrorCodes.Unknown, "The gateway answered a start without a run id.", response.StatusCode);
        return new StartedRun(answer.RunId, response.StatusCode == HttpStatusCode.Created, answer.TraceId);
    }

    /// <summary>The run's status and, once completed, its result; <see cref="RunNotFoundException"/> when the tenant has no such run.</summary>
    public async Task<RunInfo> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"v1/runs/{Uri.EscapeDataString(runId)}"),
            runId, $"get {runId}", cancellationToken);
        return await response.Content.ReadFromJsonAsync(ClientJsonContext.Default.RunInfo, cancellationToken)
            ?? throw new AgentOrchestratorException(ErrorCodes.Unknown, "The gateway answered without a run.", response.StatusCode);
    }

    /// <summary>
    /// Answers the run's input request <paramref name="requestId"/> (an input.requested event's
    /// <c>requestId</c>) with <paramref name="answer"/>, which must match the request's JSON schema. Throws
    /// <see cref="InputRejectedException"/> when the run refuses it (wrong schema, unknown, answered or timed-out
    /// request: nothing changed), <see cref="RunFinishedException"/> or <see cref="RunNotFoundException"/>.
    /// </summary>
    public async Task ProvideInputAsync(string runId, string requestId, JsonElement answer, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(requestId);
        var body = new ProvideInputBody(requestId, answer.Clone());
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"v1/runs/{Uri.EscapeDataString(runId)}/input")
        {
            Content = JsonContent.Create(body, ClientJsonContext.Default.ProvideInputBody),
        }, runId, $"answer {requestId} of {runId}", cancellationToken);
    }

    /// <summary>
    /// Requests cancellation of a running run: its model streams and tools stop, and its event stream ends with
    /// run.canceled. Throws <see cref="RunFinishedException"/> when it has already finished, or <see cref="RunNotFoundException"/>.
    /// </summary>
    public async Task CancelAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"v1/runs/{Uri.EscapeDataString(runId)}/cancel"),
            runId, $"cancel {runId}", cancellationToken);
    }

    /// <summary>
    /// The run's events after <paramref name="cursor"/> (an event id; null: from the start), then live ones, ending
    /// after the terminal event. Each event comes once and in order; events of superseded step attempts never come
    /// after a newer attempt's. The stream survives connection loss, gateway restarts and slow-consumer ends by
    /// reconnecting with backoff and resuming after the last event delivered. When the gateway cannot resume from
    /// the cursor it sends a <c>stream.reset</c> event (<see cref="RunEventTypes.StreamReset"/>): discard what you
    /// built for this run; the whole transcript follows. As the consumer moves past an event, the client
    /// acknowledges it to the gateway (batched). Throws <see cref="RunNotFoundException"/>,
    /// <see cref="AuthenticationFailedException"/>, <see cref="QuotaExceededException"/>, or
    /// <see cref="AgentOrchestratorException"/> once reconnecting ran out of attempts.
    /// </summary>
    public async IAsyncEnumerable<RunEvent> SubscribeAsync(string runId, string? cursor = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var filter = new RunEventFilter();
        var position = string.IsNullOrEmpty(cursor) ? null : cursor;
        var failures = 0;
        await using var acks = new AckBatcher(runId, _options.AckInterval, _events, _logger);
        while (true)
        {
            using var streamCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var events = await _events.OpenAsync(runId, position, streamCancel.Token);
            Exception? failure;
            try
            {
                while (true)
                {
                    (var hasEvent, failure) = await TryMoveNextAsync(events);
                    if (!hasEvent)
                    {
                        break;
                    }
                    if (filter.Take(events.Current) is not { } runEvent)
                    {
                        continue; // nothing of it is new (a trimmed token delivers only its new part)
                    }
                    failures = 0;
                    if (runEvent.Type == RunEventTypes.StreamReset)
                    {
                        // Not a cursor the gateway could resume from: keep the last real event's id.
                        ClientLog.StreamReset(_logger, runId);
                    }
                    else
                    {
                        position = runEvent.Id;
                    }
                    yield return runEvent;
                    if (runEvent.Type != RunEventTypes.StreamReset)
                    {
                        acks.Processed(runEvent.Id);
                    }
                    if (IsTerminal(runEvent.Type))
                    {
                        yield break;
                    }
                }
            }
            finally
            {
                await streamCancel.CancelAsync();
                await events.DisposeAsync();
            }
            cancellationToken.ThrowIfCancellationRequested();

            // The stream ended before the run did: classify, then resume from the last event delivered.
            TimeSpan? retryAfter = null;
            string reason;
            var error = failure switch
            {
                HubException hubError => ErrorMapping.FromHubMessage(hubError.Message, runId, hubError),
                AgentOrchestratorException gatewayError => gatewayError,
                _ => null,
            };
            if (error is not null)
            {
                if (error.Code != ErrorCodes.SlowConsumer && error.Code != ErrorCodes.Unknown && !ErrorMapping.IsTransient(error))
                {
                    throw error;
                }
                retryAfter = (error as QuotaExceededException)?.RetryAfter;
                reason = error.Message;
            }
            else
            {
                reason = failure?.Message ?? "the stream ended before the run did";
            }
            failures++;
            if (!Reconnect.CanRetry(failures))
            {
                throw new AgentOrchestratorException(ErrorCodes.Unavailable,
                    $"The stream of run {runId} could not be resumed after {failures} failed attempts: {reason}", null, failure);
            }
            var delay = Reconnect.DelayFor(failures, retryAfter);
            ClientLog.Resuming(_logger, runId, reason, position ?? "(start)", delay, failures);
            await Task.Delay(delay, cancellationToken);
        }
    }

    /// <summary>Closes the event connection and the HTTP client; open streams end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _events.DisposeAsync();
        _http.Dispose();
    }

    private static bool IsTerminal(string type) =>
        type is RunEventTypes.RunCompleted or RunEventTypes.RunFailed or RunEventTypes.RunCanceled;

    private static async ValueTask<(bool HasEvent, Exception? Failure)> TryMoveNextAsync(IAsyncEnumerator<RunEvent> events)
    {
        try
        {
            return (await events.MoveNextAsync(), null);
        }
        catch (Exception e)
        {
            // Any end of the stream other than its natural one is classified by the caller (connection loss, hub error, cancellation).
            return (false, e);
        }
    }

    /// <summary>Sends a REST request, retrying (same request, so the same idempotency key) while the gateway is busy or unreachable.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> createRequest, string? runId, string operation,
        CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (var attempt = 1; ; attempt++)
        {
            using var request = createRequest();
            await AuthenticateAsync(request, cancellationToken);
            Exception failure;
            TimeSpan? retryAfter = null;
            try
            {
                var response = await _http.SendAsync(request, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return response;
                }
                using (response)
                {
                    retryAfter = ErrorMapping.RetryAfterOf(response);
                    var error = await ErrorMapping.FromResponseAsync(response, runId, cancellationToken);
                    if (!ErrorMapping.IsTransient(error))
                    {
                        throw error;
                    }
                    failure = error;
                }
            }
            catch (HttpRequestException e)
            {
                failure = e;
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                failure = e; // the request timed out
            }
            if (!Reconnect.CanRetry(attempt))
            {
                throw failure as AgentOrchestratorException
                    ?? new AgentOrchestratorException(ErrorCodes.Unavailable, $"The gateway could not be reached after {attempt} attempts: {failure.Message}", null, failure);
            }
            var delay = Reconnect.DelayFor(attempt, retryAfter);
            ClientLog.RequestRetry(_logger, operation, failure.Message, delay, attempt);
            await Task.Delay(delay, cancellationToken);
        }
    }

    private async Task AuthenticateAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_options.AccessTokenProvider is { } tokens)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens(cancellationToken));
        }
        else
        {
            request.Headers.Add(ApiKeyHeader, _options.ApiKey);
        }
    }
}
