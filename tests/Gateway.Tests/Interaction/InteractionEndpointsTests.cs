using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workflows;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;

namespace AgentOrchestrator.Gateway.Tests.Interaction;

/// <summary>Human input through the gateway: POST /v1/runs/{runId}/input and the hub's ProvideInput.</summary>
public sealed class InteractionEndpointsTests(InteractionGatewayFixture fixture) : IClassFixture<InteractionGatewayFixture>
{
    [Fact]
    public async Task ProvideInput_Rest_ValidAnswerCompletesRunAndInvalidOnesAreTypedErrors()
    {
        var tenant = NewTenant();
        using var client = await fixture.ClientForAsync(tenant);
        var (runId, handle) = await fixture.StartApprovalAsync(tenant);
        RunLifecycleEvent requested = fixture.Activities.Requested[runId];
        Assert.Equal(InteractionApprovalWorkflow.RequestId, requested.Data!.Value.GetProperty("requestId").GetString());

        await AssertProblemAsync(await PostInputAsync(client, runId, """{"requestId": "approval", "answer": {"approved": "yes"}}"""),
            HttpStatusCode.BadRequest, "invalid_input", "approved");
        await AssertProblemAsync(await PostInputAsync(client, runId, """{"requestId": "nope", "answer": {"approved": true}}"""),
            HttpStatusCode.BadRequest, "invalid_input", "nope");
        await AssertProblemAsync(await PostInputAsync(client, runId, """{"answer": {"approved": true}}"""),
            HttpStatusCode.BadRequest, "invalid_request", "requestId");
        await AssertProblemAsync(await PostInputAsync(client, runId, """{"requestId": "approval", "answer": true, "extra": 1}"""),
            HttpStatusCode.BadRequest, "invalid_request", "extra");
        Assert.Equal(WorkflowExecutionStatus.Running, (await handle.DescribeAsync()).Status);

        using (var accepted = await PostInputAsync(client, runId, """{"requestId": "approval", "answer": {"approved": true}}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }
        Assert.Equal("""{"approved":true}""", await handle.GetResultAsync<string>());

        await AssertProblemAsync(await PostInputAsync(client, runId, """{"requestId": "approval", "answer": {"approved": false}}"""),
            HttpStatusCode.Conflict, "run_finished", "finished");
        Assert.Equal("""{"approved":true}""", await handle.GetResultAsync<string>());
    }

    [Fact]
    public async Task ProvideInput_Hub_ValidAnswerCompletesRunAndRejectionsCarryCodes()
    {
        var tenant = NewTenant();
        await using var hub = await fixture.HubForAsync(tenant);
        var (runId, handle) = await fixture.StartApprovalAsync(tenant);

        var mismatch = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("ProvideInput", runId, "approval", "{\"approved\": 1}"));
        Assert.Contains("HubException: [invalid_input] ", mismatch.Message, StringComparison.Ordinal);
        var notJson = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("ProvideInput", runId, "approval", "{approved"));
        Assert.Contains("HubException: [invalid_input] ", notJson.Message, StringComparison.Ordinal);
        var unknownRun = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("ProvideInput", "no-such-run", "approval", "{\"approved\": true}"));
        Assert.Contains("HubException: [run_not_found] ", unknownRun.Message, StringComparison.Ordinal);
        Assert.Equal(WorkflowExecutionStatus.Running, (await handle.DescribeAsync()).Status);

        await hub.InvokeAsync("ProvideInput", runId, "approval", "{\"approved\": false}");

        Assert.Equal("""{"approved":false}""", await handle.GetResultAsync<string>());
        var finished = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("ProvideInput", runId, "approval", "{\"approved\": true}"));
        Assert.Contains("HubException: [run_finished] ", finished.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProvideInputAndCancel_OtherTenantsRun_SameNotFoundAsRandomIdAndRunUntouched()
    {
        var owner = NewTenant();
        var (runId, handle) = await fixture.StartApprovalAsync(owner);
        using var intruder = await fixture.ClientForAsync(NewTenant());
        await using var intruderHub = await fixture.HubForAsync(NewTenant());
        var randomId = Guid.NewGuid().ToString("n");
        const string answer = """{"requestId": "approval", "answer": {"approved": true}}""";

        string otherInput = await NotFoundBodyAsync(await PostInputAsync(intruder, runId, answer));
        string randomInput = await NotFoundBodyAsync(await PostInputAsync(intruder, randomId, answer));
        string otherCancel = await NotFoundBodyAsync(await intruder.PostAsync(new Uri($"v1/runs/{runId}/cancel", UriKind.Relative), null));
        string randomCancel = await NotFoundBodyAsync(await intruder.PostAsync(new Uri($"v1/runs/{randomId}/cancel", UriKind.Relative), null));
        var hubOther = await Assert.ThrowsAsync<HubException>(() => intruderHub.InvokeAsync("Cancel", runId));
        var hubRandom = await Assert.ThrowsAsync<HubException>(() => intruderHub.InvokeAsync("Cancel", randomId));

        Assert.Equal(randomInput, otherInput);
        Assert.Equal(randomCancel, otherCancel);
        Assert.Equal(randomInput, randomCancel);
        Assert.Equal(hubRandom.Message, hubOther.Message);
        Assert.Contains("HubException: [run_not_found] ", hubOther.Message, StringComparison.Ordinal);
        WorkflowExecutionDescription description = await handle.DescribeAsync();
        Assert.Equal(WorkflowExecutionStatus.Running, description.Status);
        Assert.DoesNotContain((await handle.FetchHistoryAsync()).Events,
            e => e.EventType is EventType.WorkflowExecutionCancelRequested or EventType.WorkflowExecutionUpdateAccepted);
        await handle.TerminateAsync("test done");
    }

    [Fact]
    public async Task Cancel_RestThenHub_202ThenRunCanceledThen409()
    {
        var tenant = NewTenant();
        using var client = await fixture.ClientForAsync(tenant);
        await using var hub = await fixture.HubForAsync(tenant);
        var (restRunId, restHandle) = await fixture.StartApprovalAsync(tenant);
        var (hubRunId, hubHandle) = await fixture.StartApprovalAsync(tenant);

        using (var accepted = await client.PostAsync(new Uri($"v1/runs/{restRunId}/cancel", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }
        await hub.InvokeAsync("Cancel", hubRunId);

        foreach (WorkflowHandle handle in new[] { restHandle, hubHandle })
        {
            await Assert.ThrowsAsync<Temporalio.Exceptions.WorkflowFailedException>(() => handle.GetResultAsync<string>());
            Assert.Equal(WorkflowExecutionStatus.Canceled, (await handle.DescribeAsync()).Status);
        }
        await AssertProblemAsync(await client.PostAsync(new Uri($"v1/runs/{restRunId}/cancel", UriKind.Relative), null),
            HttpStatusCode.Conflict, "run_finished", "finished");
        var again = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("Cancel", hubRunId));
        Assert.Contains("HubException: [run_finished] ", again.Message, StringComparison.Ordinal);
        using var status = await client.GetAsync(new Uri($"v1/runs/{restRunId}", UriKind.Relative));
        Assert.Equal("canceled", (await status.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    private static string NewTenant() => "t" + Guid.NewGuid().ToString("N")[..12];

    private static Task<HttpResponseMessage> PostInputAsync(HttpClient client, string runId, string body) =>
        client.PostAsync(new Uri($"v1/runs/{runId}/input", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));

    private static async Task<string> NotFoundBodyAsync(HttpResponseMessage response)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal("run_not_found", JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
            // The trace id differs per request; everything else must be identical.
            var problem = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(body)!;
            problem.Remove("traceId");
            return JsonSerializer.Serialize(problem.OrderBy(p => p.Key).ToDictionary(p => p.Key, p => p.Value.GetRawText()));
        }
    }

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code, string mentions)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(code, problem.RootElement.GetProperty("code").GetString());
            Assert.Contains(mentions, problem.RootElement.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        }
    }
}
