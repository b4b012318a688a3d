using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.TestSupport;
using Microsoft.Playwright;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>A person on the embedded page, in headless Debian Chromium driven by Playwright.</summary>
public sealed class BrowserTests : IAsyncLifetime
{
    private EmbeddedDeployment? _deployment;

    private Uri Gateway => _deployment!.Gateway;

    public async Task InitializeAsync() => _deployment = await EmbeddedDeployment.StartAsync();

    public async Task DisposeAsync()
    {
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    [Fact]
    public async Task Page_TypePromptAndStart_TextGrowsLiveThenShowsTheRunResult()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(Gateway.ToString());

        await page.FillAsync("#prompt", "Why do agent workflows need durable execution?");
        await page.ClickAsync("#start");

        // Watch the streamed text while the run is live: it must grow over several observations.
        var lengths = new List<int>();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (await page.GetAttributeAsync("#status", "data-status") != "completed")
        {
            Assert.True(DateTime.UtcNow < deadline, "the run did not complete in time; status: " + await page.TextContentAsync("#status"));
            var length = (await page.TextContentAsync("#writer") ?? string.Empty).Length + (await page.TextContentAsync("#reviewer") ?? string.Empty).Length;
            if (lengths.Count == 0 || length > lengths[^1])
            {
                lengths.Add(length);
            }
            await page.WaitForTimeoutAsync(25);
        }
        Assert.True(lengths.Count(l => l > 0) >= 3, $"the text grew in only {lengths.Count(l => l > 0)} observations: {string.Join(",", lengths)}");

        var runId = await page.TextContentAsync("#run-id");
        var shownResult = await page.TextContentAsync("#result");
        using var http = new HttpClient { BaseAddress = Gateway };
        using var tokenResponse = await http.PostAsJsonAsync("/v1/dev/tokens", new { tenant = await page.InputValueAsync("#tenant"), subject = "checker" });
        var token = (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var run = await http.GetFromJsonAsync<JsonElement>($"/v1/runs/{runId}");
        Assert.Equal("completed", run.GetProperty("status").GetString());
        Assert.Equal(run.GetProperty("result").GetString(), shownResult);
        Assert.False(string.IsNullOrWhiteSpace(shownResult));
    }
}
