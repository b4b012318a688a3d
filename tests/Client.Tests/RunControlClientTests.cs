using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Client.Tests;

/// <summary>ProvideInputAsync and CancelAsync against the real stack, with the gateway's typed errors.</summary>
[Collection(ClientStackGroup.Name)]
public sealed class RunControlClientTests(ClientStackFixture stack)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task ProvideInputAsync_SupportTriageApproval_WrongAnswerRejectedThenApprovalCompletesRun()
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant());
        var started = await client.StartRunAsync(Flows.SupportTriage, "My invoice is wrong. [[call:Flow-handoff {\"agent\":\"billing\"}]]");

        using var timeout = new CancellationTokenSource(RunTimeout);
        RunEvent? requested = null;
        string? reply = null;
        await foreach (var runEvent in client.SubscribeAsync(started.RunId, cancellationToken: timeout.Token))
        {
            if (runEvent is { Type: RunEventTypes.StepCompleted, Step: "billing" })
            {
                reply = runEvent.Text;
            }
            if (runEvent.Type == RunEventTypes.InputRequested)
            {
                requested = runEvent;
                break;
            }
        }
        Assert.NotNull(requested);
        var requestId = requested.Data!.Value.GetProperty("requestId").GetString()!;

        var rejected = await Assert.ThrowsAsync<InputRejectedException>(() =>
            client.ProvideInputAsync(started.RunId, requestId, Json("{\"approved\":true,\"extra\":1}"), timeout.Token));
        Assert.Equal((ErrorCodes.InvalidInput, System.Net.HttpStatusCode.BadRequest), (rejected.Code, rejected.StatusCode));
        await Assert.ThrowsAsync<InputRejectedException>(() =>
            client.ProvideInputAsync(started.RunId, "no-such-request", Json("{\"approved\":true}"), timeout.Token));
        Assert.Equal("running", (await client.GetRunAsync(started.RunId, timeout.Token)).Status);

        await client.ProvideInputAsync(started.RunId, requestId, Json("{\"approved\":true}"), timeout.Token);

        var run = await WaitForEndAsync(client, started.RunId);
        Assert.Equal(("completed", reply), (run.Status, run.ResultText));
        await Assert.ThrowsAsync<RunFinishedException>(() =>
            client.ProvideInputAsync(started.RunId, requestId, Json("{\"approved\":true}"), timeout.Token));
    }

    [Fact]
    public async Task CancelAsync_RunningRun_StreamEndsWithRunCanceledAndSecondCancelThrowsRunFinished()
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant());
        var started = await client.StartRunAsync(Flows.WriterReviewer, "Write a long essay on cancellation.");

        using var timeout = new CancellationTokenSource(RunTimeout);
        var events = new List<RunEvent>();
        await foreach (var runEvent in client.SubscribeAsync(started.RunId, cancellationToken: timeout.Token))
        {
            events.Add(runEvent);
            if (runEvent.Type == RunEventTypes.Token && events.Count(e => e.Type == RunEventTypes.Token) == 1)
            {
                await client.CancelAsync(started.RunId, timeout.Token);
            }
        }

        Assert.Equal(RunEventTypes.RunCanceled, events[^1].Type);
        Assert.DoesNotContain(events, e => e.Type == RunEventTypes.RunCompleted);
        Assert.Equal("canceled", (await WaitForEndAsync(client, started.RunId)).Status);
        var finished = await Assert.ThrowsAsync<RunFinishedException>(() => client.CancelAsync(started.RunId, timeout.Token));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, finished.StatusCode);
    }

    [Fact]
    public async Task CancelAsyncAndProvideInputAsync_UnknownRun_ThrowRunNotFound()
    {
        await using var client = stack.ClientFor(ClientStackFixture.NewTenant());
        const string runId = "0123456789abcdef0123456789abcdef";

        var cancel = await Assert.ThrowsAsync<RunNotFoundException>(() => client.CancelAsync(runId));
        var input = await Assert.ThrowsAsync<RunNotFoundException>(() => client.ProvideInputAsync(runId, "approval", Json("{\"approved\":true}")));

        Assert.Equal((runId, runId), (cancel.RunId, input.RunId));
    }

    private static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static async Task<RunInfo> WaitForEndAsync(AgentOrchestratorClient client, string runId)
    {
        RunInfo? run = null;
        await Eventually.TrueAsync(async () => (run = await client.GetRunAsync(runId)).Status != "running", TimeSpan.FromMinutes(1), "the run's workflow closes");
        return run!;
    }
}
