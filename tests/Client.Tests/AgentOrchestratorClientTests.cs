using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Client.Tests;

/// <summary>The SDK against the real stack: REST starts, hub or plain WebSocket streams through a proxy that the tests cut.</summary>
[Collection(ClientStackGroup.Name)]
public sealed class AgentOrchestratorClientTests(ClientStackFixture stack)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task SubscribeAsync_StartedRun_DeliversEachEventOnceAndTranscriptEqualsRunResult()
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant());

        var started = await client.StartRunAsync(Flows.WriterReviewer, "Explain durable execution to a new engineer.");
        var (events, transcript) = await ReadRunAsync(client, started.RunId);

        Assert.True(started.Created);
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        Assert.Equal(RunEventTypes.RunStarted, events[0].Type);
        Assert.Equal(RunEventTypes.RunCompleted, events[^1].Type);
        await AssertExactAsync(client, started.RunId, events, transcript);
    }

    [Theory]
    [InlineData(StreamTransport.SignalR)]
    [InlineData(StreamTransport.WebSocket)]
    public async Task SubscribeAsync_ConnectionCutMidStream_ReconnectsAndTranscriptStaysExact(StreamTransport transport)
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant(), o => o.Transport = transport);
        var started = await client.StartRunAsync(Flows.WriterReviewer, "Why must a token stream survive a dropped connection?");
        var acceptedBefore = stack.Proxy.AcceptedConnections;

        // Cut while the writer streams (after its 3rd delta) and again while the reviewer streams (its 2nd delta).
        var cuts = new List<int>();
        var (events, transcript) = await ReadRunAsync(client, started.RunId, runEvent =>
        {
            if (runEvent.Type == RunEventTypes.Token && runEvent.Index == (runEvent.Step == "writer" ? 2 : 1))
            {
                cuts.Add(stack.Proxy.CutAll());
            }
        });

        Assert.Equal(2, cuts.Count);
        Assert.All(cuts, cut => Assert.True(cut >= 1, "the cut found no open connection to reset"));
        Assert.True(stack.Proxy.AcceptedConnections - acceptedBefore >= 3, "the client did not reconnect after each cut");
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        await AssertExactAsync(client, started.RunId, events, transcript);
    }

    [Theory]
    [InlineData(StreamTransport.SignalR)]
    [InlineData(StreamTransport.WebSocket)]
    public async Task SubscribeAsync_GatewayUnreachableForAWhile_RetriesConnectingThenResumesExactly(StreamTransport transport)
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant(), o => o.Transport = transport);
        var started = await client.StartRunAsync(Flows.WriterReviewer, "What should a client do while the gateway is down?");
        Task? outage = null;
        var refusedBefore = stack.Proxy.RefusedConnections;

        // While the writer streams: drop every connection and refuse new ones until the client has retried 3 times.
        var (events, transcript) = await ReadRunAsync(client, started.RunId, runEvent =>
        {
            if (outage is null && runEvent is { Step: "writer", Type: RunEventTypes.Token, Index: 2 })
            {
                stack.Proxy.Refusing = true;
                stack.Proxy.CutAll();
                outage = Task.Run(async () =>
                {
                    try
                    {
                        await Eventually.TrueAsync(() => stack.Proxy.RefusedConnections - refusedBefore >= 3, TimeSpan.FromSeconds(60), "the client retries");
                    }
                    finally
                    {
                        stack.Proxy.Refusing = false;
                    }
                });
            }
        });

        Assert.NotNull(outage);
        await outage;
        Assert.True(stack.Proxy.RefusedConnections - refusedBefore >= 3);
        await AssertExactAsync(client, started.RunId, events, transcript);
    }

    [Theory]
    [InlineData(StreamTransport.SignalR)]
    [InlineData(StreamTransport.WebSocket)]
    public async Task SubscribeAsync_StepCutOnAttempt1_TranscriptHoldsOnlyAttempt2Text(StreamTransport transport)
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant(), o => o.Transport = transport);
        var key = Guid.NewGuid().ToString("N")[..10];

        var started = await client.StartRunAsync(Flows.WriterReviewer, $"Survive a cut model stream. faultonce-{key}-cut-4");
        var (events, transcript) = await ReadRunAsync(client, started.RunId);

        var retrying = Assert.Single(events, e => e.Type == RunEventTypes.StepRetrying);
        Assert.Equal(("writer", 2), (retrying.Step, retrying.Attempt));
        Assert.Equal(1, retrying.Data?.GetProperty("previousAttempt").GetInt32());
        Assert.Contains(events, e => e is { Step: "writer", Attempt: 1, Type: RunEventTypes.Token });
        // Nothing of attempt 1 after attempt 2 began.
        var retryAt = events.IndexOf(retrying);
        Assert.DoesNotContain(events.Skip(retryAt), e => e is { Step: "writer", Attempt: 1 });

        var writer = transcript.Step("writer")!;
        Assert.Equal(2, writer.Attempt);
        Assert.Equal(1, writer.SupersededAttempts);
        var attempt2Text = events.Single(e => e is { Step: "writer", Attempt: 2, Type: RunEventTypes.StepCompleted }).Text;
        Assert.Equal(attempt2Text, writer.Text);
        await AssertExactAsync(client, started.RunId, events, transcript);
    }

    [Theory]
    [InlineData(StreamTransport.SignalR)]
    [InlineData(StreamTransport.WebSocket)]
    public async Task SubscribeAsync_FromCursorAfterCompletion_DeliversOnlyTheEventsAfterIt(StreamTransport transport)
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant(), o => o.Transport = transport);
        var started = await client.StartRunAsync(Flows.WriterReviewer, "Resume me from the middle.");
        var (all, _) = await ReadRunAsync(client, started.RunId);
        var cursor = all[all.Count / 2];

        var rest = new List<RunEvent>();
        using var timeout = new CancellationTokenSource(RunTimeout);
        await foreach (var runEvent in client.SubscribeAsync(started.RunId, cursor.Id, timeout.Token))
        {
            rest.Add(runEvent);
        }

        // The run had finished: the deltas after the cursor come compacted (one event per finished step), the rest as they were.
        var after = all.Skip((all.Count / 2) + 1).ToList();
        Assert.Equal(after.Where(e => e.Type != RunEventTypes.Token).Select(e => e.Id), rest.Where(e => e.Type != RunEventTypes.Token).Select(e => e.Id));
        Assert.Equal(string.Concat(after.Where(e => e.Type == RunEventTypes.Token).Select(e => e.Text)),
            string.Concat(rest.Where(e => e.Type == RunEventTypes.Token).Select(e => e.Text)));
        Assert.True(rest.Count(e => e.Type == RunEventTypes.Token) <= 2, "one compacted event per finished step");
    }

    [Fact]
    public async Task StartRunAsync_SameIdempotencyKey_StartsOneRun()
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant());
        var key = Guid.NewGuid().ToString("N");

        var first = await client.StartRunAsync(Flows.WriterReviewer, "Only once, please.", key);
        var second = await client.StartRunAsync(Flows.WriterReviewer, "Only once, please.", key);

        Assert.Equal(first.RunId, second.RunId);
        Assert.True(first.Created);
        Assert.False(second.Created);
        // The stack records traces (Development's console exporter): the start names its trace, the repeat does not.
        Assert.Matches("^[0-9a-f]{32}$", first.TraceId);
        Assert.Null(second.TraceId);
    }

    [Fact]
    public async Task StartRunAsync_UnknownFlow_ThrowsInvalidRequest()
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant());

        var error = await Assert.ThrowsAsync<InvalidRequestException>(() => client.StartRunAsync("no-such-flow", "hello"));

        Assert.Equal(ErrorCodes.InvalidRequest, error.Code);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, error.StatusCode);
    }

    [Fact]
    public async Task GetRunAsync_UnknownRun_ThrowsRunNotFound()
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant());

        var error = await Assert.ThrowsAsync<RunNotFoundException>(() => client.GetRunAsync("0123456789abcdef0123456789abcdef"));

        Assert.Equal("0123456789abcdef0123456789abcdef", error.RunId);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, error.StatusCode);
    }

    [Theory]
    [InlineData(StreamTransport.SignalR)]
    [InlineData(StreamTransport.WebSocket)]
    public async Task SubscribeAsync_AnotherTenantsRun_ThrowsRunNotFound(StreamTransport transport)
    {
        await using var owner = stack.ClientFor(ClientStackFixture.NewTenant(), o => o.Transport = transport);
        await using var stranger = stack.ClientFor(ClientStackFixture.NewTenant(), o => o.Transport = transport);
        var started = await owner.StartRunAsync(Flows.WriterReviewer, "Mine alone.");

        var error = await Assert.ThrowsAsync<RunNotFoundException>(async () =>
        {
            await foreach (var runEvent in stranger.SubscribeAsync(started.RunId))
            {
                Assert.Fail("another tenant's run streamed an event: " + runEvent.Id);
            }
        });

        Assert.Equal(started.RunId, error.RunId);
    }

    [Fact]
    public async Task StartRunAsync_InvalidToken_ThrowsAuthenticationFailedAndStartsNothing()
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant(),
            options => options.AccessTokenProvider = _ => ValueTask.FromResult("not-a-jwt"));

        var error = await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.StartRunAsync(Flows.WriterReviewer, "hello"));

        Assert.Equal(ErrorCodes.Unauthorized, error.Code);
    }

    [Theory]
    [InlineData(StreamTransport.SignalR)]
    [InlineData(StreamTransport.WebSocket)]
    public async Task StartRunAsync_UnknownApiKey_ThrowsAuthenticationFailed(StreamTransport transport)
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant(), options =>
        {
            options.AccessTokenProvider = null;
            options.ApiKey = "ak_" + Guid.NewGuid().ToString("N");
            options.Transport = transport;
        });

        await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.StartRunAsync(Flows.WriterReviewer, "hello"));
        await Assert.ThrowsAsync<AuthenticationFailedException>(async () =>
        {
            await foreach (var runEvent in client.SubscribeAsync("0123456789abcdef0123456789abcdef"))
            {
                Assert.Fail("streamed with an unknown API key: " + runEvent.Id);
            }
        });
    }

    [Theory]
    [InlineData(StreamTransport.SignalR)]
    [InlineData(StreamTransport.WebSocket)]
    public async Task SubscribeAsync_InvalidToken_ThrowsAuthenticationFailedWithoutRetrying(StreamTransport transport)
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant(),
            options =>
            {
                options.AccessTokenProvider = _ => ValueTask.FromResult("not-a-jwt");
                options.Transport = transport;
            });
        var acceptedBefore = stack.Proxy.AcceptedConnections;

        await Assert.ThrowsAsync<AuthenticationFailedException>(async () =>
        {
            await foreach (var runEvent in client.SubscribeAsync("0123456789abcdef0123456789abcdef"))
            {
                Assert.Fail("streamed without credentials: " + runEvent.Id);
            }
        });

        // One negotiate, no retry storm against a gateway that said 401 (HTTP keep-alive may even reuse a connection).
        Assert.True(stack.Proxy.AcceptedConnections - acceptedBefore <= 1);
    }

    private static async Task<(List<RunEvent> Events, RunTranscript Transcript)> ReadRunAsync(AgentOrchestratorClient client, string runId,
        Action<RunEvent>? onEvent = null)
    {
        var events = new List<RunEvent>();
        var transcript = new RunTranscript();
        using var timeout = new CancellationTokenSource(RunTimeout);
        await foreach (var runEvent in client.SubscribeAsync(runId, cancellationToken: timeout.Token))
        {
            events.Add(runEvent);
            Assert.True(transcript.Apply(runEvent), "the client delivered an event the transcript considers a duplicate: " + runEvent.Id);
            onEvent?.Invoke(runEvent);
        }
        return (events, transcript);
    }

    /// <summary>
    /// Exact: every step's transcript text is its completed attempt's text, the result is the run's durable result,
    /// and token indices of each delivered attempt rise up to the last delta's (coalesced deltas may skip indices).
    /// </summary>
    private static async Task AssertExactAsync(AgentOrchestratorClient client, string runId, List<RunEvent> events, RunTranscript transcript)
    {
        var run = await WaitForEndAsync(client, runId);
        Assert.Equal("completed", run.Status);
        Assert.Equal(RunTranscriptStatus.Completed, transcript.Status);
        Assert.Equal(run.ResultText, transcript.Result);
        Assert.Equal(["writer", "reviewer"], transcript.Steps.Select(s => s.Step));
        foreach (var step in transcript.Steps)
        {
            var completed = events.Single(e => e.Step == step.Step && e.Type == RunEventTypes.StepCompleted);
            Assert.True(step.IsCompleted);
            Assert.Equal(completed.Attempt, step.Attempt);
            Assert.Equal(completed.Text, step.Text);
            var indices = events.Where(e => e.Step == step.Step && e.Attempt == step.Attempt && e.Type == RunEventTypes.Token).Select(e => e.Index).ToList();
            Assert.Equal(indices.Order(), indices);
            Assert.Equal(indices.Count, indices.Distinct().Count());
            Assert.Equal(completed.Index - 1, indices[^1]);
        }
        Assert.Equal(run.ResultText, transcript.Step("reviewer")!.Text);
    }

    /// <summary>run.completed is published just before the workflow closes: wait until REST says it ended.</summary>
    private static async Task<RunInfo> WaitForEndAsync(AgentOrchestratorClient client, string runId)
    {
        RunInfo? run = null;
        await Eventually.TrueAsync(async () => (run = await client.GetRunAsync(runId)).Status != "running", TimeSpan.FromSeconds(60), "the run's workflow closes");
        return run!;
    }
}
