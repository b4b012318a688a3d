using System.ComponentModel;
using System.Text;
using Microsoft.SemanticKernel;

namespace AgentOrchestrator.Workers.Tools;

/// <summary>
/// A deterministic, local knowledge-base search (plugin "Research", tool "Research-search") over a small embedded
/// corpus, so research flows run without network access: documents are ranked by how many query words they contain.
/// </summary>
internal sealed class KnowledgeBasePlugin
{
    /// <summary>The plugin name the model sees ("Research-search").</summary>
    public const string PluginName = "Research";

    private const int MaxHits = 2;

    private static readonly (string Title, string Text)[] Corpus =
    [
        ("Durable execution", "Durable execution persists every step of a workflow so it resumes after crashes, restarts and deploys without losing progress."),
        ("Temporal workflows", "Temporal workflows are deterministic code replayed from event history; activities do the side effects and are retried with policies."),
        ("Event sourcing", "Event sourcing stores state as an append-only log of events; replaying the log rebuilds state and gives a full audit trail."),
        ("Streaming tokens", "Large language models stream tokens as they are generated; streaming cuts perceived latency because the first words arrive early."),
        ("Idempotency", "An idempotent operation has the same effect when repeated; idempotency keys let a service de-duplicate retried requests."),
        ("Multi-agent systems", "Multi-agent systems split a task among specialized agents: planners, researchers, writers and critics that hand work to each other."),
        ("Backpressure", "Backpressure slows producers to the pace of consumers; without it queues grow without bound and latency explodes."),
        ("Retries and backoff", "Retries with exponential backoff and jitter absorb transient failures without overwhelming a struggling dependency."),
    ];

    /// <summary>The best matching documents for <paramref name="query"/>, with their titles.</summary>
    [KernelFunction("search")]
    [Description("Search the knowledge base; returns the best matching documents with their titles.")]
    public static string Search([Description("What to look for.")] string query)
    {
        ArgumentNullException.ThrowIfNull(query);
        string[] words = query.ToUpperInvariant().Split([' ', ',', '.', '?', '!', ';', ':'], StringSplitOptions.RemoveEmptyEntries);
        var ranked = Corpus
            .Select((doc, order) => (doc, order, score: words.Count(w => w.Length > 2 && $"{doc.Title} {doc.Text}".ToUpperInvariant().Contains(w, StringComparison.Ordinal))))
            .Where(hit => hit.score > 0)
            .OrderByDescending(hit => hit.score)
            .ThenBy(hit => hit.order)
            .Take(MaxHits)
            .ToList();
        if (ranked.Count == 0)
        {
            return $"No documents match \"{query}\".";
        }
        var result = new StringBuilder();
        foreach (var hit in ranked)
        {
            result.Append('[').Append(hit.doc.Title).Append("] ").Append(hit.doc.Text).Append(' ');
        }
        return result.ToString().TrimEnd();
    }
}
