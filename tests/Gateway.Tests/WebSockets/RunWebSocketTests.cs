using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Gateway.Tests.WebSockets;

/// <summary>The plain WebSocket endpoint /v1/ws through a real gateway on Kestrel: run events published as a worker does, real WebSocket clients out.</summary>
[Collection(GatewayTestGroup.Name)]
public sealed class RunWebSocketTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Subscribe_DuplicatedReorderedAndSupersededEvents_AnswerThenExactTranscriptThenEnd()
    {
        var run = await StartRunAsync();
        await using var socket = await ConnectAsync(run.Tenant);
        await PublishAsync(run, run.RunStarted());

        await socket.SendAsync(new { type = "subscribe", requestId = "r1", runId = run.RunId });
        var answer = await socket.NextAsync();
        await PublishAsync(run, run.Started("writer", 1), run.Token("writer", 1, 0, "Bad "));
        await PublishAsync(run, run.Retrying("writer", 2), run.Started("writer", 2));
        await PublishAsync(run, run.Token("writer", 1, 1, " late"));
        await PublishAsync(run, run.Token("writer", 2, 1, "lo "), run.Token("writer", 2, 0, "Hel"));
        await PublishAsync(run, run.Token("writer", 2, 0, "Hel"));
        await PublishAsync(run, run.Completed("writer", 2, 3, "Hello world"), run.RunCompleted("Hello world"));
        await PublishAsync(run, run.Token("writer", 2, 2, "world"));
        var frames = await socket.ReceiveUntilAsync("end", run.RunId);

        Assert.Equal("subscribed", WebSocketTestClient.TypeOf(answer));
        Assert.Equal("r1", answer.GetProperty("requestId").GetString());
        Assert.Equal(run.RunId, answer.GetProperty("runId").GetString());
        Assert.False(string.IsNullOrEmpty(answer.GetProperty("subscriptionId").GetString()));
        var events = WebSocketTestClient.EventsOf(frames);
        Assert.Equal(frames.Count - 1, events.Count); // events, then the end frame
        Assert.False(frames[^1].TryGetProperty("code", out _)); // ended after the terminal event, not early
        var client = new ClientTranscript();
        events.ForEach(client.Apply);
        Assert.Equal("writer=Hello world", client.Render());
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        Assert.Equal(RunEventTypes.RunCompleted, events[^1].Type);

        // The connection stays open for more: a late subscriber of the same connection gets the whole transcript without
        // attempt 1 (the finished attempt compacted into one token range).
        await socket.SendAsync(new { type = "subscribe", runId = run.RunId });
        var late = WebSocketTestClient.EventsOf(await socket.ReceiveUntilAsync("end", run.RunId));
        Assert.DoesNotContain(late, e => e.Attempt == 1);
        Assert.Equal("writer=Hello world", Render(late));
        Assert.Equal(RunEventTypes.RunCompleted, late[^1].Type);
    }

    [Fact]
    public async Task Subscribe_TwoRunsOnOneConnection_InterleaveAndUnsubscribeStopsOnlyOne()
    {
        var first = await StartRunAsync();
        var second = new RunScript(first.Tenant, await StartRunIdAsync(first.Tenant));
        await using var socket = await ConnectAsync(first.Tenant);
        await PublishAsync(first, first.RunStarted());
        await PublishAsync(second, second.RunStarted());

        await socket.SendAsync(new { type = "subscribe", requestId = "a", runId = first.RunId });
        await socket.SendAsync(new { type = "subscribe", requestId = "b", runId = second.RunId });
        var opening = new List<JsonElement>();
        while (opening.Count(f => WebSocketTestClient.TypeOf(f) == "event") < 2)
        {
            opening.Add(await socket.NextAsync());
        }
        await socket.SendAsync(new { type = "unsubscribe", requestId = "u", runId = second.RunId });
        var unsubscribed = await socket.ReceiveUntilAsync("unsubscribed");
        await PublishAsync(second, second.Step("writer", 1, "never", " seen").ToArray());
        await PublishAsync(first, [.. first.Step("writer", 1, "only", " this"), first.RunCompleted("only this")]);
        var rest = await socket.ReceiveUntilAsync("end", first.RunId);
        await socket.SendAsync(new { type = "ack", requestId = "late", runId = second.RunId, cursor = second.RunStarted().Id });
        var ackAfterUnsubscribe = await socket.NextAsync();

        Assert.Equal(["a", "b"], opening.Where(f => WebSocketTestClient.TypeOf(f) == "subscribed").Select(f => f.GetProperty("requestId").GetString()));
        Assert.Equal("u", unsubscribed[^1].GetProperty("requestId").GetString());
        Assert.DoesNotContain(WebSocketTestClient.EventsOf(rest), e => e.RunId == second.RunId);
        Assert.Equal("writer=only this", Render(WebSocketTestClient.EventsOf(rest)));
        AssertError(ackAfterUnsubscribe, "run_not_found", requestId: "late");
    }

    [Fact]
    public async Task Ack_IsListedWithTransportWebSocket_AndTheSubscriptionIdResumesAfterIt()
    {
        var run = await StartRunAsync();
        var events = new[] { run.RunStarted(), run.Started("writer", 1), run.Token("writer", 1, 0, "a"), run.Token("writer", 1, 1, "b") };
        await PublishAsync(run, events);
        await WaitHeldAsync(run, events[^1].Id);
        var received = new List<RunEvent>();
        await using (var socket = await ConnectAsync(run.Tenant))
        {
            await socket.SendAsync(new { type = "subscribe", runId = run.RunId, subscriptionId = "ws-ack-1" });
            Assert.Equal("subscribed", WebSocketTestClient.TypeOf(await socket.NextAsync()));
            while (received.Count < events.Length)
            {
                received.Add(WebSocketTestClient.EventOf(await socket.NextAsync()));
            }
            await socket.SendAsync(new { type = "ack", requestId = "k1", runId = run.RunId, cursor = events[2].Id });
            var acked = await socket.NextAsync();
            Assert.Equal("acked", WebSocketTestClient.TypeOf(acked));
            Assert.Equal("k1", acked.GetProperty("requestId").GetString());

            using var owner = await fixture.ClientForAsync(run.Tenant);
            var listed = await owner.GetFromJsonAsync<JsonElement>(new Uri($"v1/runs/{run.RunId}/subscribers", UriKind.Relative));
            var subscriber = listed.GetProperty("subscribers").EnumerateArray().Single(s => s.GetProperty("subscriptionId").GetString() == "ws-ack-1");
            Assert.Equal("websocket", subscriber.GetProperty("transport").GetString());
            Assert.Equal(events[^1].Id, subscriber.GetProperty("delivered").GetString());
            Assert.Equal(events[2].Id, subscriber.GetProperty("acknowledged").GetString());
            Assert.Equal(1, subscriber.GetProperty("lag").GetInt64());
            Assert.True(subscriber.GetProperty("connected").GetBoolean());
            await socket.CloseAsync();
        }
        await PublishAsync(run, run.Completed("writer", 1, 2, "ab"), run.RunCompleted("ab"));

        // A new connection under the same subscription id, without a cursor, resumes after the acknowledged event.
        await using var again = await ConnectAsync(run.Tenant);
        await again.SendAsync(new { type = "subscribe", runId = run.RunId, subscriptionId = "ws-ack-1" });
        var resumed = WebSocketTestClient.EventsOf(await again.ReceiveUntilAsync("end", run.RunId));

        Assert.Equal(events.Select(e => e.Id), received.Select(e => e.Id));
        Assert.Equal([events[3].Id, run.Completed("writer", 1, 2, "ab").Id, run.RunCompleted().Id], resumed.Select(e => e.Id));
    }

    [Fact]
    public async Task Subscribe_WithCursor_ResumesExactly_AndAnUnknownCursorGetsResetThenTheWholeTranscript()
    {
        var run = await StartRunAsync();
        var events = new List<RunEvent> { run.RunStarted() };
        events.AddRange(run.Step("writer", 1, "Hello", " there", ", WebSocket"));
        events.Add(run.RunCompleted("Hello there, WebSocket"));
        await PublishAsync(run, [.. events]);
        await WaitHeldAsync(run, events[^1].Id);
        await using var socket = await ConnectAsync(run.Tenant);

        await socket.SendAsync(new { type = "subscribe", runId = run.RunId, cursor = events[3].Id });
        var resumed = WebSocketTestClient.EventsOf(await socket.ReceiveUntilAsync("end", run.RunId));
        await socket.SendAsync(new { type = "subscribe", runId = run.RunId, cursor = run.RunId + "/writer/1/token/99" });
        var reset = WebSocketTestClient.EventsOf(await socket.ReceiveUntilAsync("end", run.RunId));

        // The finished step comes compacted (one token range with offsets): what the client held plus what followed is exact.
        Assert.Equal("writer=Hello there, WebSocket", Render([.. events[..4], .. resumed]));
        Assert.DoesNotContain(resumed, e => e.Type == RunEventTypes.StreamReset);
        Assert.Equal(RunEventTypes.RunCompleted, resumed[^1].Type);
        Assert.Equal(RunEventTypes.StreamReset, reset[0].Type);
        Assert.Equal("writer=Hello there, WebSocket", Render(reset));
        Assert.Equal(RunEventTypes.RunCompleted, reset[^1].Type);
    }

    [Fact]
    public async Task Subscribe_RefusedRequests_AnswerTypedErrorsAndRegisterNothing()
    {
        var run = await StartRunAsync();
        var otherRun = await StartRunIdAsync(run.Tenant);
        var foreign = await StartRunAsync();
        await PublishAsync(run, run.RunStarted());
        await using var socket = await ConnectAsync(run.Tenant);
        await socket.SendAsync(new { type = "subscribe", runId = run.RunId, subscriptionId = "ws-taken" });
        Assert.Equal("subscribed", WebSocketTestClient.TypeOf(await socket.NextAsync()));
        Assert.Equal("event", WebSocketTestClient.TypeOf(await socket.NextAsync()));

        var answers = new List<JsonElement>();
        foreach (var request in new object[]
        {
            new { type = "subscribe", requestId = "1", runId = "0123456789abcdef0123456789abcdef" },
            new { type = "subscribe", requestId = "2", runId = foreign.RunId },
            new { type = "subscribe", requestId = "3", runId = otherRun, cursor = new string('c', 513) },
            new { type = "subscribe", requestId = "4", runId = otherRun, subscriptionId = "not/valid" },
            new { type = "subscribe", requestId = "5", runId = otherRun, subscriptionId = "ws-taken" },
            new { type = "subscribe", requestId = "6", runId = run.RunId },
            new { type = "ack", requestId = "7", runId = otherRun, cursor = otherRun + "/run.started" },
            new { type = "ack", requestId = "8", runId = run.RunId, cursor = "" },
            new { type = "unsubscribe", requestId = "9", runId = otherRun },
        })
        {
            await socket.SendAsync(request);
            answers.Add(await socket.NextAsync());
        }

        AssertError(answers[0], "run_not_found", "1");
        AssertError(answers[1], "run_not_found", "2");
        Assert.Equal(answers[0].GetProperty("message").GetString(), answers[1].GetProperty("message").GetString());
        AssertError(answers[2], "invalid_request", "3", "cursor must be an event id of at most 512 characters.");
        AssertError(answers[3], "invalid_request", "4",
            "subscriptionId must be 1 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit.");
        AssertError(answers[4], "invalid_request", "5", "This subscription id belongs to another run; choose a new one per run.");
        AssertError(answers[5], "invalid_request", "6", "This connection already follows this run; unsubscribe first.");
        AssertError(answers[6], "run_not_found", "7");
        AssertError(answers[7], "invalid_request", "8", "cursor must be an event id of 1 to 512 characters.");
        AssertError(answers[8], "run_not_found", "9");
        using var owner = await fixture.ClientForAsync(run.Tenant);
        var listed = await owner.GetFromJsonAsync<JsonElement>(new Uri($"v1/runs/{otherRun}/subscribers", UriKind.Relative));
        Assert.Empty(listed.GetProperty("subscribers").EnumerateArray());
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task InvalidMessages_GetTypedErrorsAndChangeNothing_UntilTooManyCloseWithPolicyViolation()
    {
        var tenant = GatewayFixture.NewTenant();
        await using var socket = await ConnectAsync(tenant);
        var invalid = new List<Func<Task>>
        {
            () => socket.SendTextAsync("{not json"),
            () => socket.SendTextAsync("[1, 2]"),
            () => socket.SendTextAsync("""{"type":"subscribe","runId":"r","extra":1}"""),
            () => socket.SendTextAsync("""{"type":"publish","runId":"r"}"""),
            () => socket.SendTextAsync("""{"type":"subscribe"}"""),
            () => socket.SendTextAsync("""{"type":"subscribe","runId":5}"""),
            () => socket.SendTextAsync($$"""{"type":"ping","requestId":"{{new string('q', 65)}}"}"""),
            () => socket.SendBinaryAsync([1, 2, 3]),
            () => socket.SendTextAsync($$"""{"type":"ping","requestId":"{{new string('x', 17 * 1024)}}"}"""),
        };
        var answers = new List<JsonElement>();
        foreach (var send in invalid)
        {
            await send();
            answers.Add(await socket.NextAsync());
        }
        await socket.SendAsync(new { type = "ping", requestId = "still-here" });
        var pong = await socket.NextAsync();

        Assert.All(answers, a => AssertError(a, "invalid_request", requestId: null));
        Assert.Contains("not a valid request", answers[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("type must be one of subscribe, ack, unsubscribe, ping.", answers[3].GetProperty("message").GetString());
        Assert.Equal("runId is required.", answers[4].GetProperty("message").GetString());
        Assert.Equal("Messages are JSON text frames; binary frames are not taken.", answers[7].GetProperty("message").GetString());
        Assert.StartsWith("The message is 17", answers[8].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("this endpoint takes at most 16384 bytes.", answers[8].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("pong", WebSocketTestClient.TypeOf(pong));
        Assert.Equal("still-here", pong.GetProperty("requestId").GetString());

        // The tenth refused message is answered, then the gateway closes the connection with 1008.
        await socket.SendTextAsync("{");
        AssertError(await socket.NextAsync(), "invalid_request", requestId: null);
        Assert.Null(await socket.ReceiveAsync());
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
    }

    [Fact]
    public async Task Connect_WithoutValidTokenOrUpgrade_IsRefusedBeforeTheUpgrade()
    {
        var tenant = GatewayFixture.NewTenant();
        var expired = GatewayFixture.SignToken(tenant, DateTime.UtcNow.AddHours(-2), DateTime.UtcNow.AddHours(-1));
        var wrongKey = GatewayFixture.SignToken(tenant, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddHours(1), key: "another-signing-key-0123456789abcdef0123");
        var valid = await fixture.DevTokenAsync(tenant);

        Assert.Equal(HttpStatusCode.Unauthorized, await WebSocketTestClient.RefusedWithAsync(fixture.Host.Address, token: null));
        Assert.Equal(HttpStatusCode.Unauthorized, await WebSocketTestClient.RefusedWithAsync(fixture.Host.Address, expired));
        Assert.Equal(HttpStatusCode.Unauthorized, await WebSocketTestClient.RefusedWithAsync(fixture.Host.Address, wrongKey));
        Assert.Null(await WebSocketTestClient.RefusedWithAsync(fixture.Host.Address, token: null,
            options => options.SetRequestHeader("Authorization", "Bearer " + valid)));
        Assert.Null(await WebSocketTestClient.RefusedWithAsync(fixture.Host.Address, valid));
        using var plain = await fixture.ClientForAsync(tenant);
        using var notUpgraded = await plain.GetAsync(new Uri("v1/ws", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, notUpgraded.StatusCode);
        Assert.Equal("invalid_request", (await notUpgraded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task HostStopping_ClosesOpenConnectionsWithGoingAway()
    {
        var host = await GatewayTestHost.StartAsync(fixture.DevServer.Target);
        var tenant = GatewayFixture.NewTenant();
        await using var socket = await WebSocketTestClient.ConnectAsync(host.Address, await DevTokens.IssueAsync(host.Address, tenant, "tester"));
        await socket.SendAsync(new { type = "ping", requestId = "before" });
        Assert.Equal("pong", WebSocketTestClient.TypeOf(await socket.NextAsync()));

        var stopping = host.DisposeAsync().AsTask();
        var frame = await socket.ReceiveAsync();
        await stopping;

        Assert.Null(frame); // the close, not a dropped connection (that would throw)
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
    }

    private async Task<WebSocketTestClient> ConnectAsync(string tenant) =>
        await WebSocketTestClient.ConnectAsync(fixture.Host.Address, await fixture.DevTokenAsync(tenant));

    private async Task<RunScript> StartRunAsync()
    {
        var tenant = GatewayFixture.NewTenant();
        return new RunScript(tenant, await StartRunIdAsync(tenant));
    }

    private async Task<string> StartRunIdAsync(string tenant)
    {
        using var client = await fixture.ClientForAsync(tenant);
        using var response = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = "over a plain WebSocket" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
    }

    private Task PublishAsync(RunScript run, params RunEvent[] events) =>
        fixture.Host.Services.PublishRunEventsAsync(run.Message(events));

    private Task WaitHeldAsync(RunScript run, string eventId) =>
        Eventually.TrueAsync(async () => await fixture.Host.Services.HoldsAsync(run.Tenant, run.RunId, eventId), because: $"{eventId} retained");

    private static string Render(IEnumerable<RunEvent> events)
    {
        var transcript = new ClientTranscript();
        foreach (var runEvent in events)
        {
            transcript.Apply(runEvent);
        }
        return transcript.Render();
    }

    internal static void AssertError(JsonElement frame, string code, string? requestId, string? message = null)
    {
        Assert.Equal("error", WebSocketTestClient.TypeOf(frame));
        Assert.Equal(code, frame.GetProperty("code").GetString());
        Assert.Equal(requestId, frame.TryGetProperty("requestId", out var id) ? id.GetString() : null);
        if (message is not null)
        {
            Assert.Equal(message, frame.GetProperty("message").GetString());
        }
    }
}
