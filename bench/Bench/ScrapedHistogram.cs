using System.Globalization;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Bench;

/// <summary>
/// What one Prometheus histogram series counted between two scrapes of a /metrics endpoint: its bucket counts, and
/// percentiles interpolated linearly inside the bucket that holds them (as Prometheus' histogram_quantile does).
/// </summary>
internal sealed class ScrapedHistogram
{
    private readonly List<(double UpperBound, double Count)> _cumulative;

    private ScrapedHistogram(List<(double UpperBound, double Count)> cumulative) => _cumulative = cumulative;

    public double Count => _cumulative.Count == 0 ? 0 : _cumulative[^1].Count;

    /// <summary>
    /// The series <paramref name="name"/> (without <c>_bucket</c>) whose labels include <paramref name="labels"/>, as
    /// counted after <paramref name="before"/> up to <paramref name="after"/>.
    /// </summary>
    public static ScrapedHistogram Between(PrometheusScrape before, PrometheusScrape after, string name, params (string Key, string Value)[] labels)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var buckets = new SortedDictionary<double, double>();
        foreach (var (scrape, sign) in new[] { (after, 1), (before, -1) })
        {
            foreach (var sample in scrape.Find(name + "_bucket", labels))
            {
                var le = sample.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(sample.Labels["le"], CultureInfo.InvariantCulture);
                buckets[le] = buckets.GetValueOrDefault(le) + (sign * sample.Value);
            }
        }
        return new ScrapedHistogram([.. buckets.Select(b => (b.Key, b.Value))]);
    }

    /// <summary>The <paramref name="p"/> quantile (0..1); NaN when nothing was counted; the highest finite bound when it falls in +Inf.</summary>
    public double Percentile(double p)
    {
        if (Count <= 0)
        {
            return double.NaN;
        }
        var rank = p * Count;
        var lowerBound = 0.0;
        var lowerCount = 0.0;
        foreach (var (upperBound, count) in _cumulative)
        {
            if (count >= rank)
            {
                if (double.IsPositiveInfinity(upperBound))
                {
                    return lowerBound;
                }
                return count == lowerCount ? upperBound : lowerBound + ((upperBound - lowerBound) * (rank - lowerCount) / (count - lowerCount));
            }
            lowerBound = upperBound;
            lowerCount = count;
        }
        return lowerBound;
    }
}
