namespace AgentOrchestrator.Gateway.Tests.Page;

[Collection(GatewayTestGroup.Name)]
public sealed class PageEndpointsTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Root_ServesPageWithTestHooks()
    {
        using var response = await fixture.Http.GetAsync(new Uri("/", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        foreach (var id in new[] { "prompt", "start", "writer", "reviewer", "status", "result" })
        {
            Assert.Contains($"id=\"{id}\"", html, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/lib/signalr.min.js", "signalR")]
    [InlineData("/app.js", "AgentClient")]
    [InlineData("/agent-client.js", "Subscribe")]
    [InlineData("/app.css", "#status")]
    public async Task Assets_AreServedAnonymously(string path, string expected)
    {
        using var response = await fixture.Http.GetAsync(new Uri(path, UriKind.Relative));
        response.EnsureSuccessStatusCode();
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
