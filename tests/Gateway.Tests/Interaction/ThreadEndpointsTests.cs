using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workflows;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;

namespace AgentOrchestrator.Gateway.Tests.Interaction;

/// <summary>POST /v1/threads and POST /v1/threads/{id}/messages with the real chat-thread workflow (rolling over every 2 turns).</summary>
public sealed class ThreadEndpointsTests(InteractionGatewayFixture fixture) : IClassFixture<InteractionGatewayFixture>
{
    [Fact]
    public async Task PostMessages_AcrossContinueAsNew_EachTurnAnswersWithWholeConversation()
    {
        var tenant = NewTenant();
        using var client = await fixture.ClientForAsync(tenant);

        using var created = await client.PostAsJsonAsync("v1/threads", new { instructions = "Be brief." });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string threadId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("threadId").GetString()!;
        Assert.Equal($"/v1/runs/{threadId}", created.Headers.Location?.ToString());

        string[] messages = ["one", "two", "three", "four", "five"];
        var answers = new List<JsonElement>();
        foreach (var text in messages)
        {
            using var response = await client.PostAsJsonAsync($"v1/threads/{threadId}/messages", new { text });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            answers.Add(await response.Content.ReadFromJsonAsync<JsonElement>());
        }

        for (int i = 0; i < messages.Length; i++)
        {
            Assert.Equal(threadId, answers[i].GetProperty("threadId").GetString());
            Assert.Equal(i + 1, answers[i].GetProperty("turn").GetInt32());
            Assert.Equal(ChatThreads.TurnStep(i + 1), answers[i].GetProperty("step").GetString());
            Assert.Equal($"turn.{i + 1} heard '{messages[i]}' after [{string.Join(" | ", messages[..i])}]", answers[i].GetProperty("text").GetString());
        }
        // Five turns at two per run: the thread continued as new twice, under its one workflow id.
        WorkflowHandle<ChatThreadWorkflow> thread = fixture.Temporal.GetWorkflowHandle<ChatThreadWorkflow>(RunWorkflowIds.For(tenant, threadId));
        var runs = await fixture.Temporal.ListWorkflowsAsync($"WorkflowId = '{RunWorkflowIds.For(tenant, threadId)}'").ToListAsync();
        Assert.Equal(3, runs.Count);
        Assert.Equal(2, runs.Count(r => r.Status == WorkflowExecutionStatus.ContinuedAsNew));
        using var status = await client.GetAsync(new Uri($"v1/runs/{threadId}", UriKind.Relative));
        Assert.Equal("running", (await status.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        using (var canceled = await client.PostAsync(new Uri($"v1/runs/{threadId}/cancel", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, canceled.StatusCode);
        }
        await Assert.ThrowsAsync<Temporalio.Exceptions.WorkflowFailedException>(() => thread.GetResultAsync());
        await InteractionEndpointsTests.AssertProblemAsync(await client.PostAsJsonAsync($"v1/threads/{threadId}/messages", new { text = "hello?" }),
            HttpStatusCode.Conflict, "run_finished", "finished");
    }

    [Fact]
    public async Task PostMessage_InvalidOrForeignThread_TypedErrorsAndNothingRuns()
    {
        var owner = NewTenant();
        using var client = await fixture.ClientForAsync(owner);
        using var intruder = await fixture.ClientForAsync(NewTenant());
        using var created = await client.PostAsync(new Uri("v1/threads", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string threadId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("threadId").GetString()!;

        using var misnamed = new StringContent("""{"instruction": "Be brief."}""", Encoding.UTF8, "application/json");
        await InteractionEndpointsTests.AssertProblemAsync(await client.PostAsync(new Uri("v1/threads", UriKind.Relative), misnamed),
            HttpStatusCode.BadRequest, "invalid_request", "instruction");
        await InteractionEndpointsTests.AssertProblemAsync(await PostRawAsync(client, threadId, """{"text": "  "}"""),
            HttpStatusCode.BadRequest, "invalid_request", "text");
        await InteractionEndpointsTests.AssertProblemAsync(await PostRawAsync(client, threadId, """{"txt": "hi"}"""),
            HttpStatusCode.BadRequest, "invalid_request", "txt");
        await InteractionEndpointsTests.AssertProblemAsync(await PostRawAsync(intruder, threadId, """{"text": "hi"}"""),
            HttpStatusCode.NotFound, "run_not_found", "no run");
        await InteractionEndpointsTests.AssertProblemAsync(await PostRawAsync(intruder, "no-such-thread", """{"text": "hi"}"""),
            HttpStatusCode.NotFound, "run_not_found", "no run");

        // The misnamed create started nothing: the tenant has just the one thread.
        Assert.Equal(1, (await fixture.Temporal.CountWorkflowsAsync($"WorkflowId STARTS_WITH 'tenant/{owner}/'")).Count);
        var history = await fixture.Temporal.GetWorkflowHandle(RunWorkflowIds.For(owner, threadId)).FetchHistoryAsync();
        Assert.DoesNotContain(history.Events, e => e.EventType is EventType.WorkflowExecutionUpdateAccepted or EventType.ActivityTaskScheduled
            && e.ActivityTaskScheduledEventAttributes.ActivityType.Name == AgentActivityNames.RunAgentStep);
        await fixture.Temporal.GetWorkflowHandle(RunWorkflowIds.For(owner, threadId)).TerminateAsync("test done");
    }

    private static string NewTenant() => "t" + Guid.NewGuid().ToString("N")[..12];

    private static Task<HttpResponseMessage> PostRawAsync(HttpClient client, string threadId, string body) =>
        client.PostAsync(new Uri($"v1/threads/{threadId}/messages", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
}
