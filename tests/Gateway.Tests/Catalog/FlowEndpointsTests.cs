using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Gateway.Tests.Catalog;

public sealed class FlowEndpointsTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task ListFlows_Authenticated_ListsEveryShippedFlowWithItsInputSchema()
    {
        using var client = await fixture.ClientForAsync(GatewayFixture.NewTenant());

        using var response = await client.GetAsync(new Uri("v1/flows", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        JsonElement[] flows = body.RootElement.GetProperty("flows").EnumerateArray().ToArray();
        Assert.Equal([Flows.ResearchTeam, Flows.SupportTriage, Flows.WriterReviewer], flows.Select(f => f.GetProperty("name").GetString()));
        JsonElement research = flows[0];
        Assert.Equal(FlowCatalog.ResearchTeam.Description, research.GetProperty("description").GetString());
        JsonElement schema = research.GetProperty("inputSchema");
        Assert.Equal("string", schema.GetProperty("type").GetString());
        Assert.Equal(1, schema.GetProperty("minLength").GetInt32());
        Assert.Equal(FlowCatalog.ResearchTeam.Input.MaxLength, schema.GetProperty("maxLength").GetInt32());
        Assert.Equal(32 * 1024, flows[2].GetProperty("inputSchema").GetProperty("maxLength").GetInt32());
    }

    [Fact]
    public async Task ListFlows_Anonymous_Returns401()
    {
        using var response = await fixture.Http.GetAsync(new Uri("v1/flows", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task CreateRun_InputOverTheFlowsSchemaLimit_Returns400NamingInputAndStartsNothing()
    {
        var tenant = GatewayFixture.NewTenant();
        using var client = await fixture.ClientForAsync(tenant);
        int limit = FlowCatalog.SupportTriage.Input.MaxLength;

        using var response = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.SupportTriage, input = new string('m', limit + 1) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        string message = problem.RootElement.GetProperty("errors").GetProperty("input")[0].GetString()!;
        Assert.Contains($"the limit is {limit}", message, StringComparison.Ordinal);
        Assert.Equal(0, await fixture.CountWorkflowsAsync(tenant));
    }

    [Fact]
    public async Task CreateRun_UnknownFlow_Returns400ListingKnownFlowsAndStartsNothing()
    {
        var tenant = GatewayFixture.NewTenant();
        using var client = await fixture.ClientForAsync(tenant);

        using var response = await client.PostAsJsonAsync("v1/runs", new { flow = "research-teams", input = "hello" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        string message = problem.RootElement.GetProperty("errors").GetProperty("flow")[0].GetString()!;
        Assert.Contains("Unknown flow 'research-teams'", message, StringComparison.Ordinal);
        Assert.Contains(Flows.ResearchTeam, message, StringComparison.Ordinal);
        Assert.Equal(0, await fixture.CountWorkflowsAsync(tenant));
    }

    [Fact]
    public async Task CreateRun_ShippedFlowWithinItsSchema_Returns201()
    {
        var tenant = GatewayFixture.NewTenant();
        using var client = await fixture.ClientForAsync(tenant);

        using var response = await client.PostAsJsonAsync("v1/runs", new { flow = Flows.SupportTriage, input = new string('m', FlowCatalog.SupportTriage.Input.MaxLength) });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(1, await fixture.CountWorkflowsAsync(tenant));
    }
}
