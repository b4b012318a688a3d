using System.Globalization;
using AgentOrchestrator.ModelSimulator.Faults;
using AgentOrchestrator.ModelSimulator.Generation;
using AgentOrchestrator.ModelSimulator.Protocol;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.ModelSimulator.Endpoints;

/// <summary>
/// <c>POST /v1/chat/completions</c>: validates the request, applies its fault plan, then streams or returns the
/// planned reply, and records how the exchange ended in <see cref="ModelSimulatorMetrics"/>.
/// </summary>
internal sealed class ChatCompletionsHandler(
    IOptionsMonitor<ModelSimulatorOptions> options,
    ModelSimulatorMetrics metrics,
    FailFirstTracker failFirst,
    TimeProvider timeProvider,
    IHostApplicationLifetime lifetime,
    ILogger<ChatCompletionsHandler> logger)
{
    /// <summary>Response header: when the simulator started handling the request, Unix-epoch microseconds.</summary>
    public const string StartedAtHeader = "X-Simulator-Started-At-Us";

    private const string DefaultModel = "model-simulator";

    // Kestrel's Abort drops bytes still queued in its output pipe; this lets already-flushed tokens reach the
    // socket first, so a cut:N client reliably receives exactly N tokens.
    private static readonly TimeSpan CutDrainDelay = TimeSpan.FromMilliseconds(200);

    public async Task HandleAsync(HttpContext context)
    {
        metrics.RequestReceived();
        context.Response.Headers[StartedAtHeader] =
            EmitClock.UnixMicrosecondsNow().ToString(CultureInfo.InvariantCulture);

        ChatCompletionRequest? request = await ChatCompletionRequestReader.ReadAsync(context);
        if (request is null)
        {
            return;
        }

        var specs = new List<string>();
        foreach (string? headerValue in context.Request.Headers[FaultSpecParser.HeaderName])
        {
            FaultSpecParser.SplitHeaderValue(headerValue, specs);
        }

        string model = FaultSpecParser.SplitModelName(request.Model ?? string.Empty, specs);
        model = model.Length == 0 ? DefaultModel : model;
        if (!FaultSpecParser.TryParse(specs, out FaultPlan? plan, out string? error))
        {
            await OpenAIErrorWriter.InvalidRequestAsync(context, "invalid_fault_spec", error);
            return;
        }

        if (await TryInjectFailureAsync(context, plan))
        {
            return;
        }

        ModelSimulatorOptions current = options.CurrentValue;
        var fingerprint = RequestFingerprint.Compute(model, request);
        var reply = new ReplyContext(
            Id: "chatcmpl-" + fingerprint.Hex[..24],
            Created: timeProvider.GetUtcNow().ToUnixTimeSeconds(),
            Model: model,
            Reply: ReplyPlanner.Plan(request, fingerprint, current),
            Pacing: ReplyPacing.Resolve(current, plan),
            CutAfterTokens: plan.CutAfterTokens,
            IncludeUsage: request.StreamOptions?.IncludeUsage == true);
        await RespondAsync(context, reply, streaming: request.Stream == true);
    }

    private async Task RespondAsync(HttpContext context, ReplyContext reply, bool streaming)
    {
        // Stop promptly when the client goes away, and don't hold up host shutdown with a slow stream.
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(
            context.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            bool finished;
            if (streaming)
            {
                metrics.StreamStarted();
                finished = await StreamingReplyWriter.WriteAsync(context.Response, reply, timeProvider, cancellation.Token);
            }
            else
            {
                finished = await CompletionReplyWriter.WriteAsync(context.Response, reply, timeProvider, cancellation.Token);
            }

            if (!finished)
            {
                await CutAsync(context, reply, streaming);
            }
            else if (streaming)
            {
                metrics.StreamCompleted();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            if (lifetime.ApplicationStopping.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
            {
                SimulatorLog.EndedByShutdown(logger, reply.Id);
                context.Abort();
                return;
            }

            if (streaming)
            {
                metrics.StreamCanceled();
            }
            else
            {
                metrics.RequestCanceled();
            }

            SimulatorLog.ClientWentAway(logger, streaming ? "streaming" : "non-streaming", reply.Id);
        }
    }

    private async Task CutAsync(HttpContext context, ReplyContext reply, bool streaming)
    {
        if (streaming)
        {
            // Real time, not the injected provider: this waits on the network, not on the simulated model.
            await Task.Delay(CutDrainDelay, TimeProvider.System);
        }

        metrics.ResponseCut();
        SimulatorLog.Cut(logger, reply.Id, reply.CutAfterTokens);
        context.Abort();
    }

    /// <summary>Answers with a simulated 429/500 when the fault plan says so.</summary>
    private async Task<bool> TryInjectFailureAsync(HttpContext context, FaultPlan plan)
    {
        if (plan.FailFirstKey is string key
            && failFirst.RecordAttemptAndShouldFail(key, plan.FailFirstCount, out int attempt))
        {
            metrics.FaultInjected();
            SimulatorLog.FailFirst(logger, key, attempt);
            await OpenAIErrorWriter.WriteAsync(
                context, StatusCodes.Status500InternalServerError, "server_error", "simulated_failure",
                $"Simulated failure {attempt} of {plan.FailFirstCount} for fail-first key '{key}'.");
            return true;
        }

        switch (plan.FailureStatusCode)
        {
            case StatusCodes.Status429TooManyRequests:
                metrics.FaultInjected();
                SimulatorLog.InjectedStatus(logger, StatusCodes.Status429TooManyRequests);
                context.Response.Headers.RetryAfter = plan.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await OpenAIErrorWriter.WriteAsync(
                    context, StatusCodes.Status429TooManyRequests, "requests", "rate_limit_exceeded",
                    $"Rate limit reached (simulated). Please try again in {plan.RetryAfterSeconds}s.");
                return true;
            case StatusCodes.Status500InternalServerError:
                metrics.FaultInjected();
                SimulatorLog.InjectedStatus(logger, StatusCodes.Status500InternalServerError);
                await OpenAIErrorWriter.WriteAsync(
                    context, StatusCodes.Status500InternalServerError, "server_error", "simulated_failure",
                    "The server had an error while processing your request (simulated).");
                return true;
            default:
                return false;
        }
    }
}
