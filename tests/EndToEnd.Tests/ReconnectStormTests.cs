using System.Diagnostics;
using AgentOrchestrator.Client;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Xunit.Abstractions;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// Reconnect storm: 2,000 subscribers of one live run, each a shipped .NET client (src/Client, its own connection and
/// default backoff), split across two gateway processes with node admission as docs/api.md configures it for
/// production (200 connections/s, burst 400, per gateway). Each gateway is reached through a TCP proxy (its load
/// balancer entry); the entries swap gateways and every connection drops at the same moment, so all resume with their
/// cursors on the other gateway, most of them first refused with 503 admission and its Retry-After. Every client's
/// transcript must be exact: each step's text equal to its step.completed, the result equal to the run's, no
/// stream.reset.
/// </summary>
public sealed class ReconnectStormTests(RabbitMqFixture rabbit, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private const int Clients = 2000;
    private const string Tenant = "tenant-storm";

    [Fact]
    public async Task Subscribers_AllDropAtOnceAndReconnect_EveryTranscriptExact()
    {
        await using var deployment = await DistributedDeployment.StartAsync(rabbit.Uri, new DistributedDeploymentOptions
        {
            Gateways = 2,
            GatewayEnvironment = new Dictionary<string, string>
            {
                ["Quotas__Node__ConnectionsPerSecond"] = "200",
                ["Quotas__Node__ConnectionBurst"] = "400",
            },
            // 2 tokens/s: the run lasts long enough (a minute or more) for every client to subscribe before the storm.
            SimulatorEnvironment = new Dictionary<string, string> { ["ModelSimulator__TokensPerSecond"] = "2" },
        });
        var gateways = deployment.Gateways;
        await using var entranceA = TcpProxy.Start(gateways[0]);
        await using var entranceB = TcpProxy.Start(gateways[1]);
        var token = await DevTokens.IssueAsync(deployment.Gateway, Tenant, "viewer");
        await using var starter = Connect(deployment.Gateway, token);
        var runId = (await starter.StartRunAsync(Flows.WriterReviewer, "Explain why durable workflows help AI agents.")).RunId;

        var watchers = Enumerable.Range(0, Clients).Select(i => new Watcher(Connect(i % 2 == 0 ? entranceA.Address : entranceB.Address, token))).ToList();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
            var subscribing = Stopwatch.StartNew();
            var reading = watchers.Select(w => w.WatchAsync(runId, timeout.Token)).ToList();
            await Eventually.TrueAsync(() => watchers.All(w => w.Received > 0), TimeSpan.FromMinutes(2),
                "every client subscribed and received an event");
            output.WriteLine($"{Clients} clients subscribed in {subscribing.Elapsed.TotalSeconds:F1} s");
            Assert.True(watchers.All(w => !w.Transcript.IsFinished), "the run ended before the storm: slow the model down");

            entranceA.Retarget(gateways[1]);
            entranceB.Retarget(gateways[0]);
            var acceptedBefore = entranceA.AcceptedConnections + entranceB.AcceptedConnections;
            var cut = entranceA.CutAll() + entranceB.CutAll();
            var storm = Stopwatch.StartNew();
            await Eventually.TrueAsync(() => entranceA.AcceptedConnections + entranceB.AcceptedConnections - acceptedBefore >= Clients
                || watchers.All(w => w.Transcript.IsFinished), TimeSpan.FromMinutes(3), "the clients reconnect");
            output.WriteLine($"{Clients} clients reconnected (or finished) {storm.Elapsed.TotalSeconds:F1} s after the cut");
            try
            {
                await Task.WhenAll(reading);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or AgentOrchestratorException)
            {
                throw new TimeoutException($"{e.Message}\nprocess output:\n{deployment.Output}", e);
            }
            var reconnects = entranceA.AcceptedConnections + entranceB.AcceptedConnections - acceptedBefore;
            output.WriteLine($"{cut} connections cut; {reconnects} accepted after the cut");
            Assert.True(cut >= Clients, $"only {cut} connections were open for {Clients} clients");
            Assert.True(reconnects >= Clients, $"only {reconnects} connections after the storm for {Clients} clients");

            RunInfo? run = null;
            await Eventually.TrueAsync(async () => (run = await starter.GetRunAsync(runId)).Status != "running",
                TimeSpan.FromSeconds(60), "the run's workflow closes");
            Assert.Equal("completed", run!.Status);
            foreach (var watcher in watchers)
            {
                watcher.AssertExact(run.ResultText);
            }
        }
        finally
        {
            await Task.WhenAll(watchers.Select(w => w.Client.DisposeAsync().AsTask()));
        }
    }

    private static AgentOrchestratorClient Connect(Uri gateway, string token) => new(new AgentOrchestratorClientOptions
    {
        BaseAddress = gateway,
        AccessTokenProvider = _ => ValueTask.FromResult(token),
    });

    /// <summary>One subscriber: the shipped client's stream applied to its RunTranscript, step.completed events kept to compare.</summary>
    private sealed class Watcher(AgentOrchestratorClient client)
    {
        private readonly Dictionary<string, RunEvent> _completed = [];
        private int _received;

        public AgentOrchestratorClient Client => client;

        public RunTranscript Transcript { get; } = new();

        public int Received => Volatile.Read(ref _received);

        public async Task WatchAsync(string runId, CancellationToken cancellationToken)
        {
            await foreach (var runEvent in client.SubscribeAsync(runId, cancellationToken: cancellationToken))
            {
                Transcript.Apply(runEvent);
                if (runEvent.Type == RunEventTypes.StepCompleted && runEvent.Step is { } step)
                {
                    _completed[step] = runEvent;
                }
                Interlocked.Increment(ref _received);
            }
        }

        public void AssertExact(string? result)
        {
            Assert.Equal(RunTranscriptStatus.Completed, Transcript.Status);
            Assert.Equal(0, Transcript.Resets);
            foreach (var step in new[] { "writer", "reviewer" })
            {
                var shown = Transcript.Step(step);
                Assert.NotNull(shown);
                var completed = _completed[step];
                Assert.Equal(completed.Attempt, shown.Attempt);
                Assert.Equal(completed.Text, shown.Text);
            }
            Assert.Equal(result, Transcript.Result);
        }
    }
}
