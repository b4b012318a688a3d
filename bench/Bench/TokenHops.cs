using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Bench;

/// <summary>
/// The per-hop breakdown of one measurement: the services' hop histograms (worker.token.hop, gateway.token.hop) counted
/// between a scrape of their /metrics before and after it.
/// </summary>
internal sealed class TokenHops
{
    /// <summary>The path's hops in order: the point reached, the point before it, and the histogram that measures it.</summary>
    public static readonly IReadOnlyList<(string Hop, string From, string Metric)> Path =
    [
        (TokenPath.WorkerReceived, TokenPath.ModelEmitted, "worker_token_hop_milliseconds"),
        (TokenPath.PublishStarted, TokenPath.WorkerReceived, "worker_token_hop_milliseconds"),
        (TokenPath.PublishConfirmed, TokenPath.PublishStarted, "worker_token_hop_milliseconds"),
        (TokenPath.GatewayReceived, TokenPath.PublishStarted, "gateway_token_hop_milliseconds"),
        (TokenPath.GatewayReleased, TokenPath.GatewayReceived, "gateway_token_hop_milliseconds"),
        (TokenPath.GatewayEnqueued, TokenPath.GatewayReleased, "gateway_token_hop_milliseconds"),
        (TokenPath.GatewayWritten, TokenPath.GatewayEnqueued, "gateway_token_hop_milliseconds"),
    ];

    private readonly IReadOnlyList<Uri> _services;
    private readonly List<PrometheusScrape> _before;
    private List<PrometheusScrape> _after = [];

    private TokenHops(IReadOnlyList<Uri> services, List<PrometheusScrape> before)
    {
        _services = services;
        _before = before;
    }

    /// <summary>Scrapes <paramref name="services"/> (every process that may record hops) before the measurement.</summary>
    public static async Task<TokenHops> StartAsync(IReadOnlyList<Uri> services) =>
        new(services, [.. await Task.WhenAll(services.Select(s => PrometheusScrape.ReadAsync(s)))]);

    public async Task StopAsync() => _after = [.. await Task.WhenAll(_services.Select(s => PrometheusScrape.ReadAsync(s)))];

    /// <summary>One row per hop that any service recorded during the measurement.</summary>
    public IEnumerable<(string Hop, string From, string Source, long Samples, double P50, double P99)> Rows()
    {
        foreach (var (hop, from, metric) in Path)
        {
            for (var i = 0; i < _services.Count; i++)
            {
                var histogram = ScrapedHistogram.Between(_before[i], _after[i], metric, ("hop", hop));
                if (histogram.Count > 0)
                {
                    yield return (hop, from, "metrics", (long)histogram.Count, histogram.Percentile(0.5), histogram.Percentile(0.99));
                }
            }
        }
    }
}
