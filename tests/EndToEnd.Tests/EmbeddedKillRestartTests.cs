using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Client;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// The durable embedded host (src/Standalone on a data directory) killed with SIGKILL while a writer-reviewer run's
/// model step streams to the shipped .NET client, then started again on the same directory and ports: the run
/// completes, the step's new attempt supersedes the partial text, and the client's transcript is exactly the run's
/// result without a stream.reset. Everything else made before the kill still holds: the run answers GET, a dev token
/// still authenticates, a tenant policy override is in force, a thread keeps its history, a pending human-input
/// request can be answered, and a start repeated with the same Idempotency-Key returns the same run.
/// </summary>
public sealed class EmbeddedKillRestartTests : IAsyncLifetime
{
    private const string Tenant = "tenant-restart";
    private const string ThreadModel = "sim-1@instant";
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(3);

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "embedded-restart-" + Guid.NewGuid().ToString("N"));
    private readonly Uri _gateway = new($"http://127.0.0.1:{ServiceProcess.FreePort()}");
    private readonly int _temporalPort = ServiceProcess.FreePort();
    private EmbeddedDeployment? _deployment;

    // A slow model, so the kill lands mid-step (8 tokens a second: a step of 40-80 tokens streams for 5-10 s); instant thread turns.
    private static Dictionary<string, string> Environment() => new()
    {
        ["ModelSimulator__TokensPerSecond"] = "8",
        ["Gateway__Threads__Model"] = ThreadModel,
    };

    public async Task InitializeAsync() =>
        _deployment = await EmbeddedDeployment.StartAsync(Environment(), _dataDirectory, _gateway, _temporalPort);

    public async Task DisposeAsync()
    {
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task KilledMidStep_RestartedOnTheSameDataDirectory_RunCompletesWithAnExactTranscriptAndNothingElseIsLost()
    {
        // Made before the kill: a dev token, a policy override, a thread with one turn, a run waiting for a human.
        var token = await DevTokens.IssueAsync(_gateway, Tenant, "restart-e2e");
        using var http = new HttpClient { BaseAddress = _gateway, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var admin = await TenantAdminClient.WithDevTokenAsync(_gateway);
        using (var put = await admin.PutPolicyAsync(Tenant, new { runStartsPerMinute = 777 }))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        await using var client = new AgentOrchestratorClient(new AgentOrchestratorClientOptions
        {
            BaseAddress = _gateway,
            AccessTokenProvider = _ => ValueTask.FromResult(token),
            // The host is down for as long as a restart takes on a loaded machine: keep trying.
            Reconnect = new ReconnectOptions { InitialDelay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromSeconds(1), MaxAttempts = 600 },
        });
        var threadId = await CreateThreadAsync(http);
        var firstAnswer = await PostMessageAsync(http, threadId, "My name is Ada.");
        var triage = await client.StartRunAsync(Flows.SupportTriage, "The app crashes on start. [[call:Flow-handoff {\"agent\":\"technical\"}]]");
        await WaitForInputRequestAsync(client, triage.RunId, "approval");

        var idempotencyKey = "restart-" + Guid.NewGuid().ToString("N");
        var started = await client.StartRunAsync(Flows.WriterReviewer, "Explain why durable workflows help AI agents.", idempotencyKey);
        Assert.True(started.Created);
        var transcript = new RunTranscript();
        var received = new List<RunEvent>();
        var writerStreaming = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watching = Task.Run(async () =>
        {
            using var timeout = new CancellationTokenSource(Wait + Wait);
            await foreach (var runEvent in client.SubscribeAsync(started.RunId, cancellationToken: timeout.Token))
            {
                lock (received)
                {
                    received.Add(runEvent);
                    transcript.Apply(runEvent);
                    if (transcript.Step("writer") is { Attempt: 1, IsCompleted: false } writer && writer.Text.Length > 0
                        && received.Count(e => e.Type == RunEventTypes.Token && e.Step == "writer") >= 3)
                    {
                        writerStreaming.TrySetResult();
                    }
                }
            }
        });
        await writerStreaming.Task.WaitAsync(Wait);

        await _deployment!.DisposeAsync(); // SIGKILL
        _deployment = await EmbeddedDeployment.StartAsync(Environment(), _dataDirectory, _gateway, _temporalPort);

        await watching.WaitAsync(Wait + Wait);
        var run = await WaitForEndAsync(client, started.RunId);
        var breaks = string.Join(" | ", received.Select(e => e.Id));
        Assert.True(run.Status == "completed", $"run {run.Status}; events: {breaks}\n{_deployment.Output}");
        Assert.DoesNotContain(received, e => e.Type == RunEventTypes.StreamReset);
        Assert.Equal(0, transcript.Resets);
        Assert.Equal(RunTranscriptStatus.Completed, transcript.Status);
        var writerStep = transcript.Step("writer")!;
        Assert.True(writerStep.Attempt >= 2 && writerStep.SupersededAttempts >= 1,
            $"the writer's attempt in flight at the kill was not superseded (attempt {writerStep.Attempt}): {breaks}");
        foreach (var step in new[] { "writer", "reviewer" })
        {
            var shown = transcript.Step(step)!;
            var completed = Assert.Single(received, e => e.Type == RunEventTypes.StepCompleted && e.Step == step && e.Attempt == shown.Attempt);
            Assert.True(completed.Text == shown.Text, $"{step} shown differs from its step.completed:\nshown:     {shown.Text}\ncompleted: {completed.Text}\n{breaks}");
        }
        Assert.Equal(run.ResultText, transcript.Step("reviewer")!.Text);
        Assert.Equal(run.ResultText, transcript.Result);
        Assert.Single(received, e => e.Type == RunEventTypes.RunStarted);

        // The token issued before the kill still authenticates (plain REST with it as bearer), and GET answers the run.
        using (var get = await http.GetAsync(new Uri($"/v1/runs/{started.RunId}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }
        // The same Idempotency-Key starts nothing new.
        var repeated = await client.StartRunAsync(Flows.WriterReviewer, "Explain why durable workflows help AI agents.", idempotencyKey);
        Assert.Equal((started.RunId, false), (repeated.RunId, repeated.Created));
        // The policy override made through the admin API is still in force.
        Assert.Equal(777, (await admin.EffectivePolicyAsync(Tenant)).GetProperty("runStartsPerMinute").GetDouble());
        // The thread answers from its whole history: the model sees the turn before the kill.
        var secondAnswer = await PostMessageAsync(http, threadId, "What is my name?");
        Assert.Equal(await CompleteAsync(http, [("system", "Be brief."), ("user", "My name is Ada."), ("assistant", firstAnswer), ("user", "What is my name?")]),
            secondAnswer);
        // The human-input request pending at the kill can still be answered, and its run then completes.
        using (var answer = JsonDocument.Parse("{\"approved\":true}"))
        {
            await client.ProvideInputAsync(triage.RunId, "approval", answer.RootElement);
        }
        Assert.Equal("completed", (await WaitForEndAsync(client, triage.RunId)).Status);
    }

    private static async Task<string> CreateThreadAsync(HttpClient http)
    {
        using var created = await http.PostAsJsonAsync("/v1/threads", new { instructions = "Be brief." });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("threadId").GetString()!;
    }

    private static async Task<string> PostMessageAsync(HttpClient http, string threadId, string text)
    {
        using var response = await http.PostAsJsonAsync($"/v1/threads/{threadId}/messages", new { text });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("text").GetString()!;
    }

    private static async Task<string> CompleteAsync(HttpClient http, (string Role, string Content)[] messages)
    {
        using var response = await http.PostAsJsonAsync("/v1/chat/completions",
            new { model = ThreadModel, messages = messages.Select(m => new { role = m.Role, content = m.Content }) });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }

    private static async Task WaitForInputRequestAsync(AgentOrchestratorClient client, string runId, string requestId)
    {
        using var timeout = new CancellationTokenSource(Wait);
        await foreach (var runEvent in client.SubscribeAsync(runId, cancellationToken: timeout.Token))
        {
            if (runEvent.Type == RunEventTypes.InputRequested && runEvent.Step == requestId)
            {
                return;
            }
        }
        throw new InvalidOperationException($"run {runId} ended without asking for {requestId}");
    }

    private static async Task<RunInfo> WaitForEndAsync(AgentOrchestratorClient client, string runId)
    {
        RunInfo? run = null;
        await Eventually.TrueAsync(async () => (run = await client.GetRunAsync(runId)).Status != "running", Wait, $"run {runId} ends");
        return run!;
    }
}
