using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentOrchestrator.ServiceDefaults.Tests;

public sealed class HealthEndpointTests
{
    [Fact]
    public async Task MapDefaultEndpoints_FailingReadyCheck_LiveStillHealthyReadyUnavailable()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        builder.Services.AddHealthChecks().AddCheck("dependency", () => HealthCheckResult.Unhealthy("down"), tags: ["ready"]);
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var live = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
        using var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        await app.StopAsync();
    }
}
