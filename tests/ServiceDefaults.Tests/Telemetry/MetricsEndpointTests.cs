using System.Diagnostics.Metrics;
using System.Net;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.ServiceDefaults.Tests.Telemetry;

/// <summary>AddServiceDefaults + MapDefaultEndpoints serve OpenTelemetry metrics in Prometheus format over real HTTP.</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_AfterRealRequests_ServesProjectMetersAspNetCoreAndRuntimeButNotForeignMeters()
    {
        await using var app = await StartAsync();
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        meters.Create("AgentOrchestrator.MetricsTest").CreateCounter<long>("metrics_test.things", "{thing}", "Things counted by the test")
            .Add(3, new KeyValuePair<string, object?>("tenant", "tenant-a"));
        meters.Create("SomeoneElse.Meter").CreateCounter<long>("foreign.things").Add(1);
        var address = new Uri(app.Urls.First());
        using (var http = new HttpClient { BaseAddress = address })
        {
            using var live = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        var scrape = await PrometheusScrape.ReadAsync(address);

        Assert.Equal(3, scrape.Sum("metrics_test_things_total", ("tenant", "tenant-a")));
        Assert.Contains("# HELP metrics_test_things_total Things counted by the test", scrape.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(scrape.Samples, s => s.Name.StartsWith("foreign_things", StringComparison.Ordinal));
        // ASP.NET Core's own meter saw the /healthz request; the runtime's meter is exported too.
        Assert.True(scrape.Sum("http_server_request_duration_seconds_count", ("http_route", "/healthz")) >= 1, scrape.Text);
        Assert.Contains(scrape.Samples, s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal));
        await app.StopAsync();
    }

    [Fact]
    public async Task Metrics_CustomPath_ServedThereOnly()
    {
        await using var app = await StartAsync(new() { ["Telemetry:Metrics:Path"] = "/ops/metrics" });
        var address = new Uri(app.Urls.First());
        using var http = new HttpClient { BaseAddress = address };

        using var custom = await http.GetAsync(new Uri("/ops/metrics", UriKind.Relative));
        using var standard = await http.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, custom.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, standard.StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public async Task Metrics_Disabled_PathNotMapped()
    {
        await using var app = await StartAsync(new() { ["Telemetry:Metrics:Enabled"] = "false" });
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public async Task Metrics_RelativePath_FailsAtStartWithTheKeyNamed()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(new() { ["Telemetry:Metrics:Path"] = "metrics" }));

        Assert.Contains("Telemetry:Metrics:Path", error.Message, StringComparison.Ordinal);
    }

    private static async Task<WebApplication> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        builder.AddServiceDefaults();
        var app = builder.Build();
        try
        {
            app.MapDefaultEndpoints();
            await app.StartAsync();
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }
}
