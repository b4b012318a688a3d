using System.Text.Json;
using Microsoft.Playwright;

namespace AgentOrchestrator.ChaosSupport;

/// <summary>
/// The page's client (agent-client.js, the gateway's own copy) in headless Chromium, watching runs through one
/// entrance with one transport, as a person's browser tab would: its RunTranscript per run, read back at the end.
/// </summary>
internal sealed class BrowserWatcher : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly IPage _page;

    private BrowserWatcher(IPlaywright playwright, IBrowser browser, IPage page, string name)
    {
        _playwright = playwright;
        _browser = browser;
        _page = page;
        Name = name;
    }

    public string Name { get; }

    public static async Task<BrowserWatcher> StartAsync(Uri entrance, string transport, string token)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(entrance.ToString());
        await page.EvaluateAsync("""
            ([token, transport]) => {
              const client = new AgentOrchestrator.AgentClient({ accessTokenFactory: () => token, transport, logger: { warn: () => {}, error: () => {}, info: () => {} } });
              const runs = new Map();
              window.chaosWatch = (runId) => {
                const record = { transcript: new AgentOrchestrator.RunTranscript(), completed: {}, done: false, error: null };
                runs.set(runId, record);
                client.subscribe(runId, {
                  onEvent: (ev) => {
                    record.transcript.apply(ev);
                    if (ev.type === "step.completed") { record.completed[ev.step] = { attempt: ev.attempt, text: ev.text ?? "" }; }
                  },
                  onComplete: () => { record.done = true; },
                  onError: (e) => { record.error = `${e.code}: ${e.message}`; record.done = true; },
                });
              };
              window.chaosDone = () => [...runs.values()].every((r) => r.done);
              window.chaosResults = () => [...runs.entries()].map(([runId, r]) => ({
                runId, done: r.done, error: r.error, resets: r.transcript.resets, status: r.transcript.status, result: r.transcript.result,
                steps: Object.entries(r.completed).map(([step, c]) => {
                  const shown = r.transcript.steps.get(step);
                  return { step, attempt: c.attempt, text: c.text, shownAttempt: shown ? shown.attempt : null, shownText: shown ? shown.text : null };
                }),
              }));
            }
            """, new object[] { token, transport });
        return new BrowserWatcher(playwright, browser, page, $"browser {transport} via {entrance}");
    }

    public Task WatchAsync(string runId) => _page.EvaluateAsync("(runId) => window.chaosWatch(runId)", runId);

    /// <summary>Waits until every watched run's stream ended (terminal event or error), then returns what the page shows per run.</summary>
    public async Task<IReadOnlyDictionary<string, BrowserRun>> ResultsAsync(TimeSpan timeout)
    {
        await _page.WaitForFunctionAsync("() => window.chaosDone()", null,
            new PageWaitForFunctionOptions { Timeout = (float)timeout.TotalMilliseconds, PollingInterval = 250 });
        var results = await _page.EvaluateAsync<JsonElement>("() => window.chaosResults()");
        return results.EnumerateArray().Select(BrowserRun.From).ToDictionary(r => r.RunId);
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}

/// <summary>One run as the page showed it.</summary>
internal sealed record BrowserRun(string RunId, string? Error, int Resets, string Status, string? Result,
    IReadOnlyList<(string Step, int Attempt, string Text, int? ShownAttempt, string? ShownText)> Steps)
{
    public static BrowserRun From(JsonElement run) => new(
        run.GetProperty("runId").GetString()!,
        run.GetProperty("error").ValueKind == JsonValueKind.String ? run.GetProperty("error").GetString() : null,
        run.GetProperty("resets").GetInt32(),
        run.GetProperty("status").GetString()!,
        run.GetProperty("result").ValueKind == JsonValueKind.String ? run.GetProperty("result").GetString() : null,
        run.GetProperty("steps").EnumerateArray().Select(s => (
            s.GetProperty("step").GetString()!,
            s.GetProperty("attempt").GetInt32(),
            s.GetProperty("text").GetString()!,
            s.GetProperty("shownAttempt").ValueKind == JsonValueKind.Number ? s.GetProperty("shownAttempt").GetInt32() : (int?)null,
            s.GetProperty("shownText").ValueKind == JsonValueKind.String ? s.GetProperty("shownText").GetString() : null)).ToList());

    /// <summary>What differs from the run's durable result; empty when exact.</summary>
    public IEnumerable<string> Differences(string? result)
    {
        if (Error is not null)
        {
            yield return $"the page's stream stopped: {Error}";
        }
        if (Status != "completed")
        {
            yield return $"the page's transcript is {Status}";
        }
        if (Resets > 0)
        {
            yield return $"{Resets} stream.reset";
        }
        foreach (var step in Steps.Where(s => s.ShownAttempt != s.Attempt || s.ShownText != s.Text))
        {
            yield return $"step {step.Step}: the page shows attempt {step.ShownAttempt}, completed attempt {step.Attempt}, texts {(step.ShownText == step.Text ? "equal" : "differ")}";
        }
        if (Result != result)
        {
            yield return "the page's result is not the run's";
        }
    }
}
