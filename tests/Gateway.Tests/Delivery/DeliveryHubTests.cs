using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.TestSupport;
using MassTransit;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.Gateway.Tests.Delivery;

/// <summary>Delivery through a real gateway: bus messages in, real SignalR and HTTP clients out.</summary>
[Collection(GatewayTestGroup.Name)]
public sealed class DeliveryHubTests(GatewayFixture fixture)
{
    private static readonly TimeSpan StreamTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Subscribe_DuplicatedReorderedAndSupersededBusMessages_ClientRendersExactTranscript()
    {
        var (hub, run) = await StartRunAsync();
        await using var connection = hub;
        var received = new List<RunEvent>();
        var firstEvent = new TaskCompletionSource();
        var streaming = CollectAsync(hub, "Subscribe", [run.RunId, null], received, firstEvent);
        await PublishAsync(run, run.RunStarted());
        await firstEvent.Task.WaitAsync(StreamTimeout);

        await PublishAsync(run, run.Started("writer", 1), run.Token("writer", 1, 0, "Bad "));
        await PublishAsync(run, run.Token("writer", 1, 1, "draft"));
        await PublishAsync(run, run.Retrying("writer", 2), run.Started("writer", 2));
        await PublishAsync(run, run.Token("writer", 1, 2, " late"));
        await PublishAsync(run, run.Token("writer", 2, 1, "lo "), run.Token("writer", 2, 0, "Hel"));
        await PublishAsync(run, run.Token("writer", 2, 0, "Hel"));
        await PublishAsync(run, run.Completed("writer", 2, 3, "Hello world"), run.RunCompleted("Hello world"));
        await PublishAsync(run, run.Token("writer", 2, 2, "world"), run.Token("writer", 2, 1, "lo "));
        await streaming;

        var client = new ClientTranscript();
        received.ForEach(client.Apply);
        Assert.Equal("writer=Hello world", client.Render());
        Assert.Equal(received.Count, received.Select(e => e.Id).Distinct().Count());
        Assert.Contains(received, e => e.Type == RunEventTypes.StepRetrying && e.Attempt == 2);
        Assert.Equal(RunEventTypes.RunCompleted, received[^1].Type);

        // A subscriber after completion gets the whole transcript, without the superseded attempt.
        var late = new List<RunEvent>();
        await CollectAsync(hub, "Subscribe", [run.RunId, null], late);
        Assert.DoesNotContain(late, e => e.Attempt == 1);
        var lateClient = new ClientTranscript();
        late.ForEach(lateClient.Apply);
        Assert.Equal("writer=Hello world", lateClient.Render());
        Assert.Equal([RunEventTypes.RunStarted, RunEventTypes.RunCompleted], lateClient.Lifecycle);
    }

    [Fact]
    public async Task Subscribe_UnknownCursor_GetsStreamResetThenTheWholeTranscript()
    {
        var (hub, run) = await StartRunAsync();
        await using var connection = hub;
        await PublishAsync(run, [run.RunStarted(), .. run.Step("writer", 1, "One ", "two"), run.RunCompleted("One two")]);
        await WaitHeldAsync(run, RunEventIds.ForRun(run.RunId, RunEventTypes.RunCompleted));

        var received = new List<RunEvent>();
        await CollectAsync(hub, "Subscribe", [run.RunId, run.RunId + "/writer/1/token/99"], received);

        Assert.Equal(RunEventTypes.StreamReset, received[0].Type);
        Assert.Equal(RunEventTypes.RunStarted, received[1].Type);
        var client = new ClientTranscript();
        received.ForEach(client.Apply);
        Assert.Equal(1, client.Resets);
        Assert.Equal("writer=One two", client.Render());
    }

    [Fact]
    public async Task Ack_ThenGetSubscribers_ShowsDeliveredAndAcknowledgedForTheRunsTenantOnly()
    {
        var (hub, run) = await StartRunAsync();
        await using var connection = hub;
        var events = new[] { run.RunStarted(), run.Started("writer", 1), run.Token("writer", 1, 0, "a"), run.Token("writer", 1, 1, "b") };
        await PublishAsync(run, events);
        var received = new List<RunEvent>();
        var gotAll = new TaskCompletionSource();
        using var stop = new CancellationTokenSource(StreamTimeout);
        var streaming = Task.Run(async () =>
        {
            await foreach (var runEvent in hub.StreamAsync<RunEvent>("SubscribeAs", run.RunId, "sub-ack-1", null, stop.Token))
            {
                received.Add(runEvent);
                if (received.Count == events.Length)
                {
                    gotAll.TrySetResult();
                }
            }
        }, stop.Token);
        await gotAll.Task.WaitAsync(StreamTimeout);

        await hub.InvokeAsync("Ack", run.RunId, events[2].Id);

        using var owner = await fixture.ClientForAsync(run.Tenant);
        JsonElement subscriber = default;
        await Eventually.TrueAsync(async () =>
        {
            var listed = await owner.GetFromJsonAsync<JsonElement>(new Uri($"v1/runs/{run.RunId}/subscribers", UriKind.Relative));
            subscriber = listed.GetProperty("subscribers").EnumerateArray()
                .FirstOrDefault(s => s.GetProperty("subscriptionId").GetString() == "sub-ack-1" && s.TryGetProperty("acknowledged", out _));
            return subscriber.ValueKind == JsonValueKind.Object;
        }, because: "the acknowledged subscriber is listed");
        Assert.Equal(events[^1].Id, subscriber.GetProperty("delivered").GetString());
        Assert.Equal(events[2].Id, subscriber.GetProperty("acknowledged").GetString());
        Assert.Equal(1, subscriber.GetProperty("lag").GetInt64());
        Assert.Equal("signalr", subscriber.GetProperty("transport").GetString());
        Assert.True(subscriber.GetProperty("connected").GetBoolean());
        Assert.Equal("tester", subscriber.GetProperty("subject").GetString());

        using var other = await fixture.ClientForAsync(GatewayFixture.NewTenant());
        using var foreign = await other.GetAsync(new Uri($"v1/runs/{run.RunId}/subscribers", UriKind.Relative));
        using var missing = await other.GetAsync(new Uri("v1/runs/0123456789abcdef0123456789abcdef/subscribers", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Equal(Comparable(await missing.Content.ReadAsStringAsync()), Comparable(await foreign.Content.ReadAsStringAsync()));

        // Resubscribing under the same subscription id without a cursor resumes after the acknowledged event.
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => streaming);
        await PublishAsync(run, run.Completed("writer", 1, 2, "ab"), run.RunCompleted("ab"));
        await using var again = await fixture.HubForAsync(run.Tenant);
        var resumed = new List<RunEvent>();
        await CollectAsync(again, "SubscribeAs", [run.RunId, "sub-ack-1", null], resumed);
        Assert.Equal([events[3].Id, run.Completed("writer", 1, 2, "ab").Id, run.RunCompleted().Id], resumed.Select(e => e.Id));
    }

    [Fact]
    public async Task Ack_WithoutSubscription_FailsLikeAnUnknownRun()
    {
        var (hub, run) = await StartRunAsync();
        await using var connection = hub;

        var error = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("Ack", run.RunId, run.RunStarted().Id));

        Assert.Contains("[run_not_found] ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not/valid")]
    [InlineData("")]
    public async Task SubscribeAs_MalformedSubscriptionId_FailsWithInvalidRequest(string subscriptionId)
    {
        var (hub, run) = await StartRunAsync();
        await using var connection = hub;

        var error = await Assert.ThrowsAsync<HubException>(() => CollectAsync(hub, "SubscribeAs", [run.RunId, subscriptionId, null], []));

        Assert.Contains("[invalid_request] ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubscribeAs_SubscriptionIdOfAnotherRun_FailsWithInvalidRequest()
    {
        var (hub, run) = await StartRunAsync();
        await using var connection = hub;
        var otherRun = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "another");
        await PublishAsync(run, run.RunStarted(), run.RunCompleted());
        await CollectAsync(hub, "SubscribeAs", [run.RunId, "sub-one-run", null], []);

        var error = await Assert.ThrowsAsync<HubException>(() => CollectAsync(hub, "SubscribeAs", [otherRun, "sub-one-run", null], []));

        Assert.Contains("[invalid_request] ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sse_LastEventId_ResumesExactlyAndEndsAfterTheTerminalEvent()
    {
        var (hub, run) = await StartRunAsync();
        await using var connection = hub;
        var events = new List<RunEvent> { run.RunStarted() };
        events.AddRange(run.Step("writer", 1, "Hello", " there", ", SSE"));
        events.Add(run.RunCompleted("Hello there, SSE"));
        await PublishAsync(run, [.. events[..4]]);
        using var http = await fixture.ClientForAsync(run.Tenant);
        http.Timeout = StreamTimeout;

        var first = new List<SseMessage>();
        using (var response = await http.GetAsync(new Uri($"v1/runs/{run.RunId}/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            await foreach (var message in SseReader.ReadAsync(await response.Content.ReadAsStreamAsync()))
            {
                first.Add(message);
                if (first.Count == 4)
                {
                    break; // the client drops mid-run
                }
            }
        }
        await PublishAsync(run, [.. events[4..]]);

        using var resume = new HttpRequestMessage(HttpMethod.Get, new Uri($"v1/runs/{run.RunId}/events", UriKind.Relative));
        resume.Headers.Add("Last-Event-ID", first[^1].Id);
        using var resumed = await http.SendAsync(resume, HttpCompletionOption.ResponseHeadersRead);
        var rest = new List<SseMessage>();
        await foreach (var message in SseReader.ReadAsync(await resumed.Content.ReadAsStreamAsync()))
        {
            rest.Add(message);
        }

        Assert.Equal(events.Select(e => e.Id), first.Concat(rest).Select(m => m.Id));
        Assert.All(first.Concat(rest), m => Assert.Equal(m.Id, m.RunEvent.Id));
        Assert.Equal(events.Select(e => e.Type), first.Concat(rest).Select(m => m.Event));
        Assert.Equal("Hello there, SSE", string.Concat(first.Concat(rest).Select(m => m.RunEvent).Where(e => e.Type == RunEventTypes.Token).Select(e => e.Text)));
    }

    [Fact]
    public async Task Sse_OtherTenantsRun_Returns404LikeAMissingRun()
    {
        var (hub, run) = await StartRunAsync();
        await using var connection = hub;
        using var other = await fixture.ClientForAsync(GatewayFixture.NewTenant());

        using var foreign = await other.GetAsync(new Uri($"v1/runs/{run.RunId}/events", UriKind.Relative));
        using var missing = await other.GetAsync(new Uri("v1/runs/0123456789abcdef0123456789abcdef/events", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Equal(Comparable(await missing.Content.ReadAsStringAsync()), Comparable(await foreign.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Sse_ResumeCursorUnderASubscriptionId_IsAcknowledgedAndTheHubResumesAfterIt()
    {
        var (hub, run) = await StartRunAsync();
        await using var connection = hub;
        var events = new List<RunEvent> { run.RunStarted() };
        events.AddRange(run.Step("writer", 1, "one", " two"));
        events.Add(run.RunCompleted("one two"));
        await PublishAsync(run, [.. events]);
        await WaitHeldAsync(run, events[^1].Id); // the resume cursor is in the tail: an exact continuation, not a reset
        using var http = await fixture.ClientForAsync(run.Tenant);
        http.Timeout = StreamTimeout;

        var sent = new List<SseMessage>();
        using (var response = await http.GetAsync(new Uri($"v1/runs/{run.RunId}/events?subscriptionId=sse-resume&cursor={Uri.EscapeDataString(events[2].Id)}",
            UriKind.Relative), HttpCompletionOption.ResponseHeadersRead))
        {
            await foreach (var message in SseReader.ReadAsync(await response.Content.ReadAsStreamAsync()))
            {
                sent.Add(message);
            }
        }
        var listed = await http.GetFromJsonAsync<JsonElement>(new Uri($"v1/runs/{run.RunId}/subscribers", UriKind.Relative));
        var subscriber = listed.GetProperty("subscribers").EnumerateArray().Single(s => s.GetProperty("subscriptionId").GetString() == "sse-resume");
        // The same subscription id over SignalR, without a cursor, resumes from what SSE recorded as acknowledged.
        var resumed = new List<RunEvent>();
        await CollectAsync(hub, "SubscribeAs", [run.RunId, "sse-resume", null], resumed);

        Assert.Equal(events[3..].Select(e => e.Id), sent.Select(m => m.Id));
        Assert.Equal(events[2].Id, subscriber.GetProperty("acknowledged").GetString());
        Assert.Equal("sse", subscriber.GetProperty("transport").GetString());
        Assert.Equal(events[3..].Select(e => e.Id), resumed.Select(e => e.Id));
    }

    [Fact]
    public async Task Subscribe_InvalidCursorOrSubscriptionId_SameRefusalOverHubAndSse_NothingRegistered()
    {
        var (hub, run) = await StartRunAsync();
        await using var connection = hub;
        var otherRun = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "another");
        await PublishAsync(run, run.RunStarted(), run.RunCompleted());
        await CollectAsync(hub, "SubscribeAs", [run.RunId, "sub-taken", null], []);
        using var http = await fixture.ClientForAsync(run.Tenant);
        var longCursor = new string('c', 513);

        var hubCursor = await Assert.ThrowsAsync<HubException>(() => CollectAsync(hub, "Subscribe", [otherRun, longCursor], []));
        var hubTaken = await Assert.ThrowsAsync<HubException>(() => CollectAsync(hub, "SubscribeAs", [otherRun, "sub-taken", null], []));
        using var sseCursor = await http.GetAsync(new Uri($"v1/runs/{otherRun}/events?cursor={longCursor}", UriKind.Relative));
        using var sseMalformed = await http.GetAsync(new Uri($"v1/runs/{otherRun}/events?subscriptionId=not%2Fvalid", UriKind.Relative));
        using var sseTaken = await http.GetAsync(new Uri($"v1/runs/{otherRun}/events?subscriptionId=sub-taken", UriKind.Relative));

        Assert.Contains("[invalid_request] cursor must be an event id of at most 512 characters.", hubCursor.Message, StringComparison.Ordinal);
        Assert.Contains("[invalid_request] This subscription id belongs to another run; choose a new one per run.", hubTaken.Message, StringComparison.Ordinal);
        await AssertInvalidAsync(sseCursor, "cursor", "The cursor (Last-Event-ID or ?cursor=) must be an event id of at most 512 characters.");
        await AssertInvalidAsync(sseMalformed, "subscriptionId",
            "subscriptionId must be 1 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit.");
        await AssertInvalidAsync(sseTaken, "subscriptionId", "This subscription id belongs to another run; choose a new one per run.");
        var listed = await http.GetFromJsonAsync<JsonElement>(new Uri($"v1/runs/{otherRun}/subscribers", UriKind.Relative));
        Assert.Empty(listed.GetProperty("subscribers").EnumerateArray());
    }

    private static async Task AssertInvalidAsync(HttpResponseMessage response, string field, string message)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("invalid_request", problem.GetProperty("code").GetString());
        Assert.Equal(message, problem.GetProperty("detail").GetString());
        Assert.Equal(message, problem.GetProperty("errors").GetProperty(field)[0].GetString());
    }

    private async Task<(HubConnection Hub, RunScript Run)> StartRunAsync()
    {
        var tenant = GatewayFixture.NewTenant();
        var hub = await fixture.HubForAsync(tenant);
        var runId = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "hello");
        return (hub, new RunScript(tenant, runId));
    }

    private static Task CollectAsync(HubConnection hub, string method, object?[] args, List<RunEvent> into, TaskCompletionSource? first = null) =>
        Task.Run(async () =>
        {
            using var timeout = new CancellationTokenSource(StreamTimeout);
            await foreach (var runEvent in hub.StreamAsyncCore<RunEvent>(method, args, timeout.Token))
            {
                into.Add(runEvent);
                first?.TrySetResult();
            }
        });

    private Task PublishAsync(RunScript run, params RunEvent[] events) =>
        fixture.Host.Services.PublishRunEventsAsync(run.Message(events));

    private Task WaitHeldAsync(RunScript run, string eventId) =>
        Eventually.TrueAsync(async () => await fixture.Host.Services.HoldsAsync(run.Tenant, run.RunId, eventId), because: $"{eventId} retained");

    /// <summary>The problem body without its per-request trace id.</summary>
    private static string Comparable(string problemJson)
    {
        using var document = JsonDocument.Parse(problemJson);
        return string.Join("|", document.RootElement.EnumerateObject()
            .Where(property => property.Name != "traceId")
            .Select(property => $"{property.Name}={property.Value}"));
    }
}
