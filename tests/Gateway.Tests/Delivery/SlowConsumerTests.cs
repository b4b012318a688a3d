using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using MassTransit;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.Gateway.Tests.Delivery;

/// <summary>
/// One run, two subscribers on one gateway: a SignalR client that reads as fast as it can and an SSE client that
/// reads ten times slower than tokens arrive. The slow one must not hold up the fast one, its server-side queue must
/// stay bounded, and it must end with the exact transcript (through coalesced deltas, or a slow_consumer end and a
/// resume with Last-Event-ID).
/// </summary>
[Collection(GatewayTestGroup.Name)]
public sealed class SlowConsumerTests(GatewayFixture fixture)
{
    private const int Tokens = 4000;
    private const int TokenChars = 1024;
    private const long SoftLimitBytes = 1024 * 1024;
    private const long HardLimitBytes = 2 * SoftLimitBytes;
    private static readonly TimeSpan TokenInterval = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan StreamTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task SlowSseClient_IsBoundedAndResumesExactly_WhileFastClientGetsEveryEvent()
    {
        await using var host = await GatewayTestHost.StartAsync(fixture.DevServer.Target, settings: new Dictionary<string, string?>
        {
            ["Gateway:Delivery:SoftLimitEvents"] = "2048",
            ["Gateway:Delivery:SoftLimitBytes"] = SoftLimitBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway:Delivery:HardLimitBytes"] = HardLimitBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var tenant = GatewayFixture.NewTenant();
        var token = await fixture.DevTokenAsync(tenant);
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(host.Address, "hubs/runs"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        await hub.StartAsync();
        var run = new RunScript(tenant, await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "slow and fast"));
        using var http = new HttpClient(SmallReceiveWindow()) { BaseAddress = host.Address, Timeout = StreamTimeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var bus = host.Services.RunEventPublisher();
        var texts = Enumerable.Range(0, Tokens).Select(i => $"{i:D5}" + new string((char)('a' + (i % 26)), TokenChars - 5)).ToArray();
        var expected = "writer=" + string.Concat(texts);

        using var timeout = new CancellationTokenSource(StreamTimeout);
        var fastEvents = new List<RunEvent>();
        var fastReady = new TaskCompletionSource();
        var fast = Task.Run(async () =>
        {
            await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", run.RunId, null, timeout.Token))
            {
                fastEvents.Add(runEvent);
                fastReady.TrySetResult();
            }
        });
        var slowReady = new TaskCompletionSource();
        using var publishing = new CancellationTokenSource();
        var slow = ReadSlowlyAsync(http, run.RunId, slowReady, publishing.Token, timeout.Token);
        await bus.PublishAsync(run.Message(run.RunStarted()));
        await Task.WhenAll(fastReady.Task, slowReady.Task).WaitAsync(StreamTimeout);

        var published = new List<RunEvent> { run.RunStarted(), run.Started("writer", 1) };
        await bus.PublishAsync(run.Message(run.Started("writer", 1)));
        for (var i = 0; i < Tokens; i++)
        {
            var delta = run.Token("writer", 1, i, texts[i]);
            published.Add(delta);
            await bus.PublishAsync(run.Message(delta));
            await Task.Delay(TokenInterval); // the pace tokens arrive at: the slow client reads ten times slower
        }
        // While the tokens streamed, the slow subscriber's server-side queue stayed within the hard limit (plus two events).
        var peakWhileStreaming = await PeakQueuedBytesAsync(http, run.RunId);
        Assert.True(peakWhileStreaming <= HardLimitBytes + (2 * 2 * (TokenChars + 512)),
            $"server-side queue bounded: peak {peakWhileStreaming} bytes while streaming");
        await publishing.CancelAsync();
        published.Add(run.Completed("writer", 1, Tokens, string.Concat(texts)));
        published.Add(run.RunCompleted());
        await bus.PublishAsync(run.Message(published[^2], published[^1]));

        await fast;
        var (slowTranscript, slowTokenEvents, slowDisconnects) = await slow;

        Assert.Equal(published.Select(e => e.Id), fastEvents.Select(e => e.Id));
        var fastTranscript = new ClientTranscript();
        fastEvents.ForEach(fastTranscript.Apply);
        Assert.Equal(expected, fastTranscript.Render());

        Assert.Equal(expected, slowTranscript.Render());
        var coalesced = (await SlowSubscriberAsync(http, run.RunId)).GetProperty("coalesced").GetInt64();
        Assert.True(coalesced > 0 || slowDisconnects > 0,
            $"the slow client fell behind: coalesced {coalesced}, slow_consumer ends {slowDisconnects}, token events read {slowTokenEvents}");
    }

    private static async Task<long> PeakQueuedBytesAsync(HttpClient http, string runId) =>
        (await SlowSubscriberAsync(http, runId)).GetProperty("peakQueuedBytes").GetInt64();

    private static async Task<JsonElement> SlowSubscriberAsync(HttpClient http, string runId)
    {
        var listed = await http.GetFromJsonAsync<JsonElement>(new Uri($"v1/runs/{runId}/subscribers", UriKind.Relative));
        return listed.GetProperty("subscribers").EnumerateArray().Single(s => s.GetProperty("subscriptionId").GetString() == "slow-sse");
    }

    /// <summary>
    /// A client socket with a 4 KB receive buffer: the kernel cannot absorb the backlog, so a slow reader really holds
    /// the server's writes back (as a slow mobile link does).
    /// </summary>
    private static SocketsHttpHandler SmallReceiveWindow() => new()
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>
    /// Reads 20 ms per event while tokens stream (they arrive every 2 ms); on slow_consumer it resumes with
    /// Last-Event-ID and, having been told it is too slow, reads the rest at full speed, as it does once the stream is over.
    /// </summary>
    private static async Task<(ClientTranscript Transcript, int TokenEvents, int Disconnects)> ReadSlowlyAsync(HttpClient http, string runId,
        TaskCompletionSource ready, CancellationToken slowPhase, CancellationToken cancellationToken)
    {
        var transcript = new ClientTranscript();
        var tokenEvents = 0;
        var disconnects = 0;
        var ended = false;
        while (!ended)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"v1/runs/{runId}/events?subscriptionId=slow-sse", UriKind.Relative));
            if (transcript.Cursor is { } cursor)
            {
                request.Headers.Add("Last-Event-ID", cursor);
            }
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            await foreach (var message in SseReader.ReadAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken))
            {
                if (message.Event == "error")
                {
                    Assert.Contains("slow_consumer", message.Data, StringComparison.Ordinal);
                    disconnects++;
                    break;
                }
                var runEvent = message.RunEvent;
                transcript.Apply(runEvent);
                ready.TrySetResult();
                tokenEvents += runEvent.Type == RunEventTypes.Token ? 1 : 0;
                ended = runEvent.Type == RunEventTypes.RunCompleted;
                if (disconnects == 0 && !slowPhase.IsCancellationRequested)
                {
                    await Task.Delay(TokenInterval * 10, cancellationToken); // the slow reader's pace
                }
            }
        }
        return (transcript, tokenEvents, disconnects);
    }
}
