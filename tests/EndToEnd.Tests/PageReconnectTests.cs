using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Microsoft.Playwright;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// The page (agent-client.js) in headless Chromium, reaching the embedded deployment through a TCP proxy that the
/// test cuts while the run streams: the page must reconnect, resume from its cursor and still show the exact text.
/// </summary>
public sealed class PageReconnectTests : IAsyncLifetime
{
    private EmbeddedDeployment? _deployment;
    private TcpProxy? _proxy;

    public async Task InitializeAsync()
    {
        // A slower model, so the run is still streaming when the connection is cut.
        _deployment = await EmbeddedDeployment.StartAsync(new Dictionary<string, string> { ["ModelSimulator__TokensPerSecond"] = "20" });
        _proxy = TcpProxy.Start(_deployment.Gateway);
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("signalr")]
    [InlineData("websocket")]
    public async Task Page_ConnectionCutWhileEachStepStreams_ReconnectsAndShowsTheExactTranscript(string transport)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var webSockets = new List<string>();
        page.WebSocket += (_, socket) => webSockets.Add(new Uri(socket.Url).AbsolutePath);
        await page.GotoAsync(_proxy!.Address + "?transport=" + transport);

        await page.FillAsync("#prompt", "What happens to a token stream when the network drops?");
        await page.ClickAsync("#start");

        var cuts = new List<int>();
        foreach (var panel in new[] { "#writer", "#reviewer" })
        {
            await page.WaitForFunctionAsync($"document.querySelector('{panel}').textContent.length > 0", null,
                new PageWaitForFunctionOptions { Timeout = 120_000, PollingInterval = 20 });
            var acceptedBefore = _proxy.AcceptedConnections;
            cuts.Add(_proxy.CutAll());
            await Eventually.TrueAsync(() => _proxy.AcceptedConnections > acceptedBefore, TimeSpan.FromSeconds(60), "the page reconnects after the cut");
        }
        await page.WaitForFunctionAsync("['completed','failed','canceled','error'].includes(document.querySelector('#status').dataset.status)", null,
            new PageWaitForFunctionOptions { Timeout = 180_000, PollingInterval = 50 });

        Assert.All(cuts, cut => Assert.True(cut >= 1, "a cut found no open connection"));
        Assert.Equal("completed", await page.GetAttributeAsync("#status", "data-status"));
        Assert.Contains(transport == "websocket" ? "/v1/ws" : "/hubs/runs", webSockets);
        Assert.DoesNotContain(transport == "websocket" ? "/hubs/runs" : "/v1/ws", webSockets);
        var runId = (await page.TextContentAsync("#run-id"))!;

        // The reference: the run's events read directly from the gateway (no proxy) after it finished.
        await using var reference = await RunClient.ConnectAsync(_deployment!.Gateway, await page.InputValueAsync("#tenant"));
        var events = await reference.ReadAllEventsAsync(runId, TimeSpan.FromMinutes(1));
        var run = await reference.WaitForRunEndAsync(runId);
        string StepText(string step) => events.Single(e => e.Step == step && e.Type == RunEventTypes.StepCompleted).Text!;

        Assert.Equal(StepText("writer"), await page.TextContentAsync("#writer"));
        Assert.Equal(StepText("reviewer"), await page.TextContentAsync("#reviewer"));
        Assert.Equal(run.GetProperty("result").GetString(), await page.TextContentAsync("#result"));
        Assert.Equal(string.Empty, await page.TextContentAsync("#error"));
    }

    [Fact]
    public async Task PageReconnectPolicy_Delays_AreFullJitterWithinTheExponentialCeiling()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(_proxy!.Address.ToString());

        // A fixed "random" fraction makes the delay exact; a Retry-After longer than the draw wins.
        var delays = await page.EvaluateAsync<double[]>("""
            () => {
              const fractions = [0, 0.25, 0.5, 0.75, 0.5, 0.5];
              let i = 0;
              const policy = new AgentOrchestrator.ReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 3 }, () => fractions[i++]);
              return [policy.delay(1), policy.delay(2), policy.delay(3), policy.delay(5), policy.delay(10), policy.delay(1, 5000),
                      policy.canRetry(3) ? 1 : 0, policy.canRetry(4) ? 1 : 0];
            }
            """);

        Assert.Equal(new double[] { 0, 50, 200, 750, 500, 5000, 1, 0 }, delays);
    }

    [Fact]
    public async Task PageTranscript_TokensWithOffsets_AppendOnlyWhatIsNotHeld()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(_proxy!.Address.ToString());

        // Duplicates, a merged range overlapping what is held, a compacted whole-step range, then a token without an
        // offset (the index rule) and a duplicate of it.
        var texts = await page.EvaluateAsync<string[]>("""
            () => {
              const token = (index, offset, text) => ({ id: `r/w/1/token/${index}`, runId: "r", type: "token", step: "w", attempt: 1, index, offset, text });
              const transcript = new AgentOrchestrator.RunTranscript();
              const delivered = [];
              for (const ev of [token(0, 0, "Hel"), token(1, 3, "lo "), token(1, 3, "lo "), token(2, 0, "Hello wor"), token(3, 9, "ld"),
                                token(3, 0, "Hello world"), { ...token(4, undefined, "!"), offset: undefined }, { ...token(4, undefined, "!"), offset: undefined }]) {
                const accepted = transcript.filter.accept(ev);
                if (accepted) { delivered.push(accepted.text); }
              }
              const applied = new AgentOrchestrator.RunTranscript();
              for (const ev of [token(0, 0, "ab"), token(1, 1, "bcd"), token(1, 1, "bcd"), token(0, 0, "abcde")]) { applied.apply(ev); }
              return [delivered.join("|"), applied.steps.get("w").text];
            }
            """);

        Assert.Equal(["Hel|lo |wor|ld|!", "abcde"], texts);
    }

    private static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
}
