using System.Runtime.CompilerServices;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Delivery;
using AgentOrchestrator.Gateway.Runs;
using Microsoft.AspNetCore.SignalR;
using Serilog.Context;

namespace AgentOrchestrator.Gateway.Hubs;

/// <summary>Subscribing to a run's events and acknowledging them (protocol: docs/protocol.md).</summary>
public sealed partial class RunsHub
{
    public const string TransportName = "signalr";
    private const int MaxCursorLength = 512;

    /// <summary>
    /// Events after <paramref name="cursor"/> (an event id; null or empty: from the beginning), then live ones, in
    /// the run's canonical order; the stream ends after run.completed, run.failed or run.canceled. A cursor this
    /// gateway does not hold gets stream.reset, then the whole transcript.
    /// </summary>
    public Task<IAsyncEnumerable<RunEvent>> Subscribe(string runId, string? cursor, RunEventStreamer streamer, SubscriberRegistry registry) =>
        SubscribeCore(runId, Guid.NewGuid().ToString("N"), cursor, streamer, registry);

    /// <summary>
    /// As <see cref="Subscribe"/>, under a subscription id the client chooses and keeps across reconnects (on any
    /// gateway): without a cursor it resumes from the subscription's acknowledged position.
    /// </summary>
    public async Task<IAsyncEnumerable<RunEvent>> SubscribeAs(string runId, string subscriptionId, string? cursor, RunEventStreamer streamer,
        SubscriberRegistry registry)
    {
        if (!TenantIds.IsValid(subscriptionId))
        {
            throw new HubException(ControlProblems.HubMessage(ControlProblems.InvalidRequestCode, "subscriptionId must be 1 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit."));
        }
        var tenant = TenantIds.TenantOf(Context.User);
        var known = registry.Find(tenant, subscriptionId);
        if (known is not null && known.RunId != runId)
        {
            throw new HubException(ControlProblems.HubMessage(ControlProblems.InvalidRequestCode, "This subscription id belongs to another run; choose a new one per run."));
        }
        if (string.IsNullOrEmpty(cursor))
        {
            cursor = known?.Acknowledged;
        }
        return await SubscribeCore(runId, subscriptionId, cursor, streamer, registry);
    }

    /// <summary>
    /// The client has rendered everything up to <paramref name="cursor"/> of its subscription to
    /// <paramref name="runId"/> on this connection. Clients batch acks (for example every 250 ms).
    /// </summary>
    public void Ack(string runId, string cursor, DeliveryMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        if (string.IsNullOrEmpty(cursor) || cursor.Length > MaxCursorLength)
        {
            throw new HubException(ControlProblems.HubMessage(ControlProblems.InvalidRequestCode, $"cursor must be an event id of 1 to {MaxCursorLength} characters."));
        }
        if (Context.Items.TryGetValue(SubscriptionItem(runId), out var item) && item is LocalSubscriber subscriber)
        {
            if (subscriber.Acknowledge(cursor) is { } lag)
            {
                metrics.Acknowledged(lag);
            }
            return;
        }
        // Also what another tenant's run id gives: this connection never subscribed to it.
        throw new HubException(ControlProblems.HubMessage(ControlProblems.RunNotFoundCode, RunNotFoundMessage));
    }

    private async Task<IAsyncEnumerable<RunEvent>> SubscribeCore(string runId, string subscriptionId, string? cursor, RunEventStreamer streamer,
        SubscriberRegistry registry)
    {
        var tenant = TenantIds.TenantOf(Context.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        using var runScope = LogContext.PushProperty("RunId", runId);
        if (cursor?.Length > MaxCursorLength)
        {
            throw new HubException(ControlProblems.HubMessage(ControlProblems.InvalidRequestCode, $"cursor must be an event id of at most {MaxCursorLength} characters."));
        }
        if (!await runs.ExistsAsync(tenant, runId, Context.ConnectionAborted))
        {
            throw new HubException(ControlProblems.HubMessage(ControlProblems.RunNotFoundCode, RunNotFoundMessage));
        }
        var subscriber = registry.Open(tenant, runId, subscriptionId, TenantIds.SubjectOf(Context.User), TransportName);
        Context.Items[SubscriptionItem(runId)] = subscriber;
        return Stream(streamer.StreamAsync(tenant, runId, cursor, subscriber, CancellationToken.None), subscriber, default);
    }

    /// <summary>Ends with the source; a slow-consumer end reaches the client as a HubException "[slow_consumer] ...".</summary>
    private static async IAsyncEnumerable<RunEvent> Stream(IAsyncEnumerable<RunEvent> source, LocalSubscriber subscriber,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var events = source.GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await events.MoveNextAsync())
                    {
                        yield break;
                    }
                }
                catch (SlowConsumerException e)
                {
                    throw new HubException(e.Message);
                }
                yield return events.Current;
            }
        }
        finally
        {
            subscriber.Disconnected();
            await events.DisposeAsync();
        }
    }

    private static string SubscriptionItem(string runId) => "subscription:" + runId;
}
