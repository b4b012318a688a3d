using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Events;
using AgentOrchestrator.Gateway.Quotas;
using AgentOrchestrator.Gateway.Runs;
using Microsoft.AspNetCore.SignalR;
using Serilog.Context;

namespace AgentOrchestrator.Gateway.Hubs;

/// <summary>
/// /hubs/runs: start runs and stream their events. Authorization (a bearer token with a tenant) is required by the
/// endpoint mapping; every run id is resolved inside the caller's tenant. Partial: groups of hub methods live in
/// their own files (RunsHub.*.cs); methods there take the services they need as parameters (SignalR injects them).
/// </summary>
public sealed partial class RunsHub(RunService runs, RunRequestValidator validator, IRunEventFeed feed) : Hub
{
    public const string RunNotFoundMessage = "run not found";

    [StartsRun]
    public async Task<string> StartRun(string flow, string input)
    {
        var tenant = TenantIds.TenantOf(Context.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        if (validator.Validate(flow, input) is { } errors)
        {
            throw new HubException(RunRequestValidator.Describe(errors));
        }
        var start = await runs.StartAsync(tenant, TenantIds.SubjectOf(Context.User), flow, input, idempotencyKey: null, Context.ConnectionAborted);
        return start.RunId;
    }

    /// <summary>
    /// Retained events after <paramref name="cursor"/> (an event id; null or empty: from the beginning), then live
    /// ones, in order and without duplicates; the stream ends after run.completed, run.failed or run.canceled.
    /// </summary>
    public async Task<IAsyncEnumerable<RunEvent>> Subscribe(string runId, string? cursor)
    {
        var tenant = TenantIds.TenantOf(Context.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        using var runScope = LogContext.PushProperty("RunId", runId);
        if (!await runs.ExistsAsync(tenant, runId, Context.ConnectionAborted))
        {
            throw new HubException(RunNotFoundMessage);
        }
        return Stream(feed.Subscribe(tenant, runId, cursor), default);
    }

    private static async IAsyncEnumerable<RunEvent> Stream(RunEventSubscription subscription, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using (subscription)
        {
            foreach (var runEvent in subscription.Replay)
            {
                yield return runEvent;
                if (RunEventTerminals.IsTerminal(runEvent.Type))
                {
                    yield break;
                }
            }
            while (await ReadAsync(subscription.Live, cancellationToken) is { } runEvent)
            {
                yield return runEvent;
                if (RunEventTerminals.IsTerminal(runEvent.Type))
                {
                    yield break;
                }
            }
        }
    }

    /// <summary>The next live event; null at the end; a HubException (its message reaches the client) on overflow.</summary>
    private static async ValueTask<RunEvent?> ReadAsync(ChannelReader<RunEvent> reader, CancellationToken cancellationToken)
    {
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                if (reader.TryRead(out var runEvent))
                {
                    return runEvent;
                }
            }
            return null;
        }
        catch (SubscriberOverflowException e)
        {
            throw new HubException(e.Message);
        }
        catch (ChannelClosedException e) when (e.InnerException is SubscriberOverflowException overflow)
        {
            throw new HubException(overflow.Message);
        }
    }
}
