using AgentOrchestrator.ModelSimulator.Generation;

namespace AgentOrchestrator.ModelSimulator.Endpoints;

/// <summary>What a response writer needs: the planned reply plus the envelope fields and pacing.</summary>
internal sealed record ReplyContext(
    string Id,
    long Created,
    string Model,
    SimulatedReply Reply,
    ReplyPacing Pacing,
    int? CutAfterTokens,
    bool IncludeUsage);
