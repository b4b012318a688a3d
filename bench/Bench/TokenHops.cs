using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Bench;

/// <summary>
/// The per-hop breakdown of one measurement: from the stamps every delta of a timed subscription carries (plus the
/// client's receipt), exact; and, for hops no delta carries (publish.confirmed), the services' hop histograms
/// (worker.token.hop, gateway.token.hop) counted between a scrape of their /metrics before and after it.
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
    private readonly Dictionary<(string Hop, string From), List<double>> _fromEvents = [];
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

    /// <summary>One live token delta of a timed subscription, read at <paramref name="receivedAtUs"/>: each hop of its path.</summary>
    public void Add(TimedRunEvent timed, long receivedAtUs)
    {
        ArgumentNullException.ThrowIfNull(timed);
        if (timed.Hops.Count == 0 || timed.Event.ModelEmittedAtUs is not { } emittedAtUs)
        {
            return;
        }
        PathStamp[] path = [new(TokenPath.ModelEmitted, emittedAtUs), .. timed.Hops, new(TokenPath.ClientReceived, receivedAtUs)];
        lock (_fromEvents)
        {
            for (var i = 1; i < path.Length; i++)
            {
                var key = (path[i].Point, path[i - 1].Point);
                if (!_fromEvents.TryGetValue(key, out var samples))
                {
                    _fromEvents[key] = samples = [];
                }
                // Not clamped at 0 like the services' metrics: the bench's clock is compared with the service's as it is.
                samples.Add((path[i].AtUs - path[i - 1].AtUs) / 1000.0);
            }
        }
    }

    public async Task StopAsync() => _after = [.. await Task.WhenAll(_services.Select(s => PrometheusScrape.ReadAsync(s)))];

    /// <summary>One row per hop the deltas carried, in path order, then per hop only a service's histogram saw.</summary>
    public IEnumerable<(string Hop, string From, string Source, long Samples, double P50, double P99)> Rows()
    {
        foreach (var ((hop, from), samples) in _fromEvents.OrderBy(h => h.Value.Count == 0 ? 0 : PathOrder(h.Key.Hop)))
        {
            samples.Sort();
            yield return (hop, from, "events", samples.Count, Report.Percentile(samples, 0.5), Report.Percentile(samples, 0.99));
        }
        foreach (var (hop, from, metric) in Path.Where(p => !_fromEvents.ContainsKey((p.Hop, p.From))))
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

    private static int PathOrder(string point) => point switch
    {
        TokenPath.WorkerReceived => 1,
        TokenPath.PublishStarted => 2,
        TokenPath.GatewayReceived => 3,
        TokenPath.GatewayReleased => 4,
        TokenPath.GatewayEnqueued => 5,
        TokenPath.GatewayWritten => 6,
        TokenPath.ClientReceived => 7,
        _ => 8,
    };
}
