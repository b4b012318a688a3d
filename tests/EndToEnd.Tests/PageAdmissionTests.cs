using AgentOrchestrator.TestSupport;
using Microsoft.Playwright;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// The page's client (agent-client.js) in headless Chromium against a gateway whose node admission is nearly shut
/// (Quotas:Node: one connection per 5 s): a connect refused with 503 admission waits at least the Retry-After the
/// gateway sent before it negotiates again, however short its own backoff, and then connects.
/// </summary>
public sealed class PageAdmissionTests : IAsyncLifetime
{
    private EmbeddedDeployment? _deployment;

    public async Task InitializeAsync() => _deployment = await EmbeddedDeployment.StartAsync(new Dictionary<string, string>
    {
        ["Quotas__Node__ConnectionsPerSecond"] = "0.2",
        ["Quotas__Node__ConnectionBurst"] = "1",
    });

    public async Task DisposeAsync()
    {
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    [Fact]
    public async Task PageConnect_RefusedByAdmission_WaitsTheRetryAfterThenConnects()
    {
        var token = await DevTokens.IssueAsync(_deployment!.Gateway, "tenant-page-admission", "viewer");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(_deployment.Gateway.ToString());

        // Every negotiate the page makes is noted (start, status, Retry-After). The bucket is emptied first (plain
        // negotiates until one is refused), then the client connects with a 1 ms backoff that alone would use up its
        // 20 attempts in a moment.
        var outcome = await page.EvaluateAsync<double[][]>("""
            async (token) => {
              const negotiates = [];
              const plainFetch = window.fetch.bind(window);
              window.fetch = async (url, init) => {
                const started = performance.now();
                const response = await plainFetch(url, init);
                if (String(url).includes("/hubs/runs/negotiate")) {
                  negotiates.push([started, performance.now(), response.status, Number(response.headers.get("Retry-After") || -1)]);
                }
                return response;
              };
              while ((await plainFetch("/hubs/runs/negotiate?negotiateVersion=1", { method: "POST" })).status !== 503) { }
              const client = new AgentOrchestrator.AgentClient({
                accessTokenFactory: () => token,
                reconnect: { initialDelayMs: 1, maxDelayMs: 1, maxAttempts: 20 },
                logger: { warn: () => {}, error: () => {}, info: () => {} },
              });
              const connection = await client.ensureConnected();
              negotiates.push([connection.connected ? 1 : 0]);
              await client.stop();
              return negotiates;
            }
            """, token);

        var connected = outcome[^1];
        var negotiates = outcome[..^1];
        Assert.Equal(1, connected[0]);
        Assert.True(negotiates.Length >= 2, $"the client's first negotiate was not refused ({negotiates.Length} negotiates)");
        Assert.Equal(200, negotiates[^1][2]);
        for (var i = 0; i < negotiates.Length - 1; i++)
        {
            var (answered, status, retryAfterSeconds) = (negotiates[i][1], negotiates[i][2], negotiates[i][3]);
            Assert.Equal(503, status);
            Assert.True(retryAfterSeconds >= 1, "a refusal without Retry-After");
            var waited = negotiates[i + 1][0] - answered;
            Assert.True(waited >= retryAfterSeconds * 1000 - 1,
                $"negotiate {i + 2} came {waited:F0} ms after a refusal with Retry-After {retryAfterSeconds} s");
        }
    }
}
