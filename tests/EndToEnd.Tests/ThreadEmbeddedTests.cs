using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>A chat thread through the whole embedded system: turns stream like run steps and survive continue-as-new.</summary>
public sealed class ThreadEmbeddedTests(InteractionDeployment fixture) : IClassFixture<InteractionDeployment>
{
    [Fact]
    public async Task Thread_ThreeTurnsAcrossRollover_StreamsEachTurnAndLastTurnSeesWholeConversation()
    {
        const string tenant = "tenant-thread";
        var (http, hub) = await fixture.ConnectAsync(tenant);
        using var httpScope = http;
        await using var hubScope = hub;
        using var created = await http.PostAsJsonAsync("/v1/threads", new { instructions = "Be brief." });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var threadId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("threadId").GetString()!;
        var (events, streamEnded) = InteractionDeployment.Follow(hub, threadId);

        string[] messages = ["My name is Ada.", "I collect graphs.", "What is my name?"];
        var answers = new List<string>();
        foreach (var text in messages)
        {
            using var response = await http.PostAsJsonAsync($"/v1/threads/{threadId}/messages", new { text });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var turn = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(ChatThreads.TurnStep(answers.Count + 1), turn.GetProperty("step").GetString());
            answers.Add(turn.GetProperty("text").GetString()!);
        }

        // Each turn streamed as its own step; its tokens add up to the answer the POST returned.
        await Eventually.TrueAsync(() => events.Any(e => e.Step == ChatThreads.TurnStep(3) && e.Type == RunEventTypes.StepCompleted),
            because: "the third turn's events reach the subscriber");
        var all = events.ToList();
        Assert.Equal(RunEventTypes.RunStarted, all[0].Type);
        for (int i = 0; i < messages.Length; i++)
        {
            var step = ChatThreads.TurnStep(i + 1);
            var tokens = all.Where(e => e.Step == step && e.Type == RunEventTypes.Token).ToList();
            Assert.Equal(Enumerable.Range(0, tokens.Count).Select(n => (long)n), tokens.Select(t => t.Index));
            Assert.Equal(answers[i], string.Concat(tokens.Select(t => t.Text)));
        }

        // The simulator answers deterministically from the whole conversation: the third answer is what it says to all
        // five earlier messages plus the question, and differs from its answer to the question alone.
        var withHistory = await CompleteAsync(http,
        [
            new("system", "Be brief."), new("user", messages[0]), new("assistant", answers[0]),
            new("user", messages[1]), new("assistant", answers[1]), new("user", messages[2]),
        ]);
        var withoutHistory = await CompleteAsync(http, [new("system", "Be brief."), new("user", messages[2])]);
        Assert.Equal(withHistory, answers[2]);
        Assert.NotEqual(withoutHistory, answers[2]);

        // Two turns per run: the thread rolled over once, under its one workflow id.
        var temporal = await TemporalClient.ConnectAsync(new TemporalClientConnectOptions(fixture.Deployment.TemporalTarget));
        var runs = await temporal.ListWorkflowsAsync($"WorkflowId = '{RunWorkflowIds.For(tenant, threadId)}'").ToListAsync();
        Assert.Equal(2, runs.Count);
        Assert.Single(runs, r => r.Status == WorkflowExecutionStatus.ContinuedAsNew);

        using (var canceled = await http.PostAsync(new Uri($"/v1/runs/{threadId}/cancel", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, canceled.StatusCode);
        }
        await streamEnded.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(RunEventTypes.RunCanceled, events.Last().Type);
        Assert.Single(events, e => e.Type == RunEventTypes.RunStarted);
    }

    private sealed record Message(string Role, string Content);

    private static async Task<string> CompleteAsync(HttpClient http, Message[] messages)
    {
        using var response = await http.PostAsJsonAsync("/v1/chat/completions",
            new { model = InteractionDeployment.ThreadModel, messages = messages.Select(m => new { role = m.Role, content = m.Content }) });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }
}
