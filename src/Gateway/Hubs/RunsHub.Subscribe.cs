using System.Runtime.CompilerServices;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Runs;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Subscriptions;
using Microsoft.AspNetCore.SignalR;
using Serilog.Context;

namespace AgentOrchestrator.Gateway.Hubs;

/// <summary>Subscribing to a run's events and acknowledging them (protocol: docs/protocol.md).</summary>
public sealed partial class RunsHub
{
    public const string TransportName = "signalr";
    private static readonly RunStreamTransport Transport = new(TransportName);

    /// <summary>
    /// Events after <paramref name="cursor"/> (an event id; null or empty: from the beginning), then live ones, in
    /// the run's canonical order; the stream ends after run.completed, run.failed or run.canceled. A cursor this
    /// gateway does not hold gets stream.reset, then the whole transcript.
    /// </summary>
    public async Task<IAsyncEnumerable<RunEvent>> Subscribe(string runId, string? cursor, RunSubscriptions subscriptions) =>
        Stream(await OpenAsync(runId, subscriptionId: null, cursor, timed: false, subscriptions), default);

    /// <summary>
    /// As <see cref="Subscribe"/>, under a subscription id the client chooses and keeps across reconnects (on any
    /// gateway): without a cursor it resumes from the subscription's acknowledged position.
    /// </summary>
    public async Task<IAsyncEnumerable<RunEvent>> SubscribeAs(string runId, string subscriptionId, string? cursor, RunSubscriptions subscriptions) =>
        Stream(await OpenAsync(runId, subscriptionId ?? string.Empty, cursor, timed: false, subscriptions), default);

    /// <summary>
    /// As <see cref="Subscribe"/>, each event wrapped with the points of its path (live token deltas, up to the gateway
    /// handing it to this connection; empty otherwise), for measuring the token path (docs/protocol.md "Timed
    /// subscriptions"). Other subscriptions carry no stamps.
    /// </summary>
    public async Task<IAsyncEnumerable<TimedRunEvent>> SubscribeTimed(string runId, string? cursor, RunSubscriptions subscriptions) =>
        Timed(Stream(await OpenAsync(runId, subscriptionId: null, cursor, timed: true, subscriptions), default));

    /// <summary>
    /// The client has rendered everything up to <paramref name="cursor"/> of its subscription to
    /// <paramref name="runId"/> on this connection. Clients batch acks (for example every 250 ms).
    /// </summary>
    public void Ack(string runId, string cursor)
    {
        if (RunSubscriptions.CheckAckCursor(cursor) is { } invalid)
        {
            throw ToHubException(invalid);
        }
        if (Context.Items.TryGetValue(SubscriptionItem(runId), out var item) && item is RunSubscription subscription)
        {
            subscription.Acknowledge(cursor);
            return;
        }
        // Also what another tenant's run id gives: this connection never subscribed to it.
        throw ToHubException(SubscribeError.RunNotFound);
    }

    private async Task<RunSubscription> OpenAsync(string runId, string? subscriptionId, string? cursor, bool timed, RunSubscriptions subscriptions)
    {
        var tenant = TenantIds.TenantOf(Context.User);
        using var tenantScope = LogContext.PushProperty("TenantId", tenant);
        using var runScope = LogContext.PushProperty("RunId", runId);
        var outcome = await subscriptions.SubscribeAsync(new RunSubscribeRequest
        {
            TenantId = tenant,
            RunId = runId,
            SubscriptionId = subscriptionId,
            Cursor = cursor,
            Subject = TenantIds.SubjectOf(Context.User),
            Transport = Transport,
            Timed = timed,
        }, Context.ConnectionAborted);
        if (!outcome.Opened)
        {
            throw ToHubException(outcome.Error);
        }
        Context.Items[SubscriptionItem(runId)] = outcome.Subscription;
        return outcome.Subscription;
    }

    private static async IAsyncEnumerable<TimedRunEvent> Timed(IAsyncEnumerable<RunEvent> events)
    {
        await foreach (var runEvent in events)
        {
            yield return new TimedRunEvent(runEvent, runEvent.Trace ?? []);
        }
    }

    /// <summary>Ends with the subscription; a slow-consumer end reaches the client as a HubException "[slow_consumer] ...".</summary>
    private static async IAsyncEnumerable<RunEvent> Stream(RunSubscription subscription, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var events = subscription.EventsAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await events.MoveNextAsync())
                {
                    yield break;
                }
            }
            catch (RunStreamEndedException e)
            {
                throw new HubException(e.Message);
            }
            yield return events.Current;
        }
    }

    private static HubException ToHubException(SubscribeError error) => new(ControlProblems.HubMessage(error.Code, error.Message));

    private static string SubscriptionItem(string runId) => "subscription:" + runId;
}
