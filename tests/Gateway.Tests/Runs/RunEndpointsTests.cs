using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using Temporalio.Api.Enums.V1;

namespace AgentOrchestrator.Gateway.Tests.Runs;

[Collection(GatewayTestGroup.Name)]
public sealed class RunEndpointsTests(GatewayFixture fixture)
{
    public static TheoryData<string, string> MalformedBodies() => new()
    {
        { "{\"flow\": \"writer-reviewer\", \"input\": ", "body" },
        { "not json at all", "body" },
        { "[1, 2, 3]", "body" },
        { "null", "body" },
        { "{\"flow\": \"no-such-flow\", \"input\": \"hello\"}", "flow" },
        { "{\"input\": \"hello\"}", "flow" },
        { "{\"flow\": \"writer-reviewer\", \"input\": \"\"}", "input" },
        { "{\"flow\": \"writer-reviewer\", \"input\": \"   \"}", "input" },
        { "{\"flow\": \"writer-reviewer\"}", "input" },
        { "{\"flow\": \"writer-reviewer\", \"input\": 42}", "body" },
        { "{\"flow\": \"writer-reviewer\", \"input\": \"hello\", \"model\": \"gpt\"}", "body" },
        { "{\"flow\": \"writer-reviewer\", \"input\": \"" + new string('x', (32 * 1024) + 1) + "\"}", "input" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task CreateRun_MalformedRequest_Returns400ProblemDetailsAndStartsNothing(string body, string field)
    {
        var tenant = GatewayFixture.NewTenant();
        using var client = await fixture.ClientForAsync(tenant);
        using var content = new StringContent(body, Encoding.UTF8, "application/json");

        using var response = await client.PostAsync(new Uri("v1/runs", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("detail").GetString()));
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"errors should name '{field}'");
        Assert.Equal(0, await fixture.CountWorkflowsAsync(tenant));
    }

    [Fact]
    public async Task CreateRun_BodyFarBeyondLimit_Returns400AndStartsNothing()
    {
        var tenant = GatewayFixture.NewTenant();
        using var client = await fixture.ClientForAsync(tenant);
        var huge = "{\"flow\": \"writer-reviewer\", \"input\": \"" + new string('y', 1024 * 1024) + "\"}";
        using var content = new StringContent(huge, Encoding.UTF8, "application/json");

        using var response = await client.PostAsync(new Uri("v1/runs", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await fixture.CountWorkflowsAsync(tenant));
    }

    [Fact]
    public async Task CreateRun_InputAtLimit_IsAccepted()
    {
        var tenant = GatewayFixture.NewTenant();
        using var client = await fixture.ClientForAsync(tenant);
        using var response = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = new string('z', 32 * 1024) });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task CreateRun_Valid_Returns201AndStartsTenantScopedWorkflow()
    {
        var tenant = GatewayFixture.NewTenant();
        using var client = await fixture.ClientForAsync(tenant);

        using var response = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = "a poem about queues" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var runId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
        Assert.Equal($"/v1/runs/{runId}", response.Headers.Location?.ToString());
        var description = await fixture.Temporal.GetWorkflowHandle(RunWorkflowIds.For(tenant, runId)).DescribeAsync();
        Assert.Equal(Flows.WriterReviewer, description.WorkflowType);
        Assert.Equal(TaskQueues.Agents, description.TaskQueue);
        Assert.Equal(WorkflowExecutionStatus.Running, description.Status);
        Assert.StartsWith($"tenant/{tenant}/", description.Id, StringComparison.Ordinal);
        Assert.Equal(1, await fixture.CountWorkflowsAsync(tenant));
    }

    [Fact]
    public async Task CreateRun_SameIdempotencyKeyTwice_SameRunIdCreatedThenOkAndOneWorkflow()
    {
        var tenant = GatewayFixture.NewTenant();
        using var client = await fixture.ClientForAsync(tenant);

        using var first = await PostWithKeyAsync(client, "order-42");
        using var second = await PostWithKeyAsync(client, "order-42");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var firstId = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString();
        var secondId = (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString();
        Assert.Equal(firstId, secondId);
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(1, await fixture.CountWorkflowsAsync(tenant));
    }

    [Fact]
    public async Task CreateRun_SameIdempotencyKeyOtherTenant_StartsItsOwnRun()
    {
        var tenantA = GatewayFixture.NewTenant();
        var tenantB = GatewayFixture.NewTenant();
        using var clientA = await fixture.ClientForAsync(tenantA);
        using var clientB = await fixture.ClientForAsync(tenantB);

        using var a = await PostWithKeyAsync(clientA, "shared-key");
        using var b = await PostWithKeyAsync(clientB, "shared-key");

        Assert.Equal(HttpStatusCode.Created, a.StatusCode);
        Assert.Equal(HttpStatusCode.Created, b.StatusCode);
        Assert.Equal(1, await fixture.CountWorkflowsAsync(tenantA));
        Assert.Equal(1, await fixture.CountWorkflowsAsync(tenantB));
    }

    [Fact]
    public async Task CreateRun_InvalidIdempotencyKey_Returns400AndStartsNothing()
    {
        var tenant = GatewayFixture.NewTenant();
        using var client = await fixture.ClientForAsync(tenant);
        using var response = await PostWithKeyAsync(client, new string('k', 201));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await fixture.CountWorkflowsAsync(tenant));
    }

    [Fact]
    public async Task GetRun_OwnRunningRun_ReturnsRunning()
    {
        var tenant = GatewayFixture.NewTenant();
        using var client = await fixture.ClientForAsync(tenant);
        var runId = await StartAsync(client);

        var run = await client.GetFromJsonAsync<JsonElement>($"v1/runs/{runId}");

        Assert.Equal(runId, run.GetProperty("runId").GetString());
        Assert.Equal(Flows.WriterReviewer, run.GetProperty("flow").GetString());
        Assert.Equal("running", run.GetProperty("status").GetString());
        Assert.False(run.TryGetProperty("result", out _));
    }

    [Fact]
    public async Task GetRun_TerminatedRun_ReportsTerminated()
    {
        var tenant = GatewayFixture.NewTenant();
        using var client = await fixture.ClientForAsync(tenant);
        var runId = await StartAsync(client);
        await fixture.Temporal.GetWorkflowHandle(RunWorkflowIds.For(tenant, runId)).TerminateAsync("test");

        var run = await client.GetFromJsonAsync<JsonElement>($"v1/runs/{runId}");

        Assert.Equal("terminated", run.GetProperty("status").GetString());
    }

    [Fact]
    public async Task GetRun_OtherTenantsRun_Returns404LikeAMissingRun()
    {
        var owner = GatewayFixture.NewTenant();
        using var ownerClient = await fixture.ClientForAsync(owner);
        var runId = await StartAsync(ownerClient);
        using var otherClient = await fixture.ClientForAsync(GatewayFixture.NewTenant());

        using var foreign = await otherClient.GetAsync(new Uri($"v1/runs/{runId}", UriKind.Relative));
        using var missing = await otherClient.GetAsync(new Uri("v1/runs/0123456789abcdef0123456789abcdef", UriKind.Relative));
        using var malformed = await otherClient.GetAsync(new Uri("v1/runs/..%2F..%2Fx", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, malformed.StatusCode);
        Assert.Equal(Comparable(await foreign.Content.ReadAsStringAsync()), Comparable(await missing.Content.ReadAsStringAsync()));
        Assert.Equal(foreign.Content.Headers.ContentType?.MediaType, missing.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>The problem body without its per-request trace id.</summary>
    private static string Comparable(string problemJson)
    {
        using var document = JsonDocument.Parse(problemJson);
        return string.Join("|", document.RootElement.EnumerateObject()
            .Where(property => property.Name != "traceId")
            .Select(property => $"{property.Name}={property.Value}"));
    }

    private static async Task<string> StartAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.WriterReviewer, input = "hello" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
    }

    private static async Task<HttpResponseMessage> PostWithKeyAsync(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/runs")
        {
            Content = JsonContent.Create(new { flow = Flows.WriterReviewer, input = "idempotent hello" }),
        };
        request.Headers.Add("Idempotency-Key", key);
        return await client.SendAsync(request);
    }
}
