namespace AgentOrchestrator.ModelSimulator.Generation;

/// <summary>Words the simulator composes answers from: plausible-looking prose, nothing meaningful.</summary>
internal static class Vocabulary
{
    public static readonly string[] Words =
    [
        "the", "a", "agent", "plan", "task", "result", "step", "model", "system", "request",
        "answer", "context", "tool", "call", "data", "value", "state", "event", "message", "stream",
        "workflow", "service", "queue", "signal", "update", "record", "history", "summary", "detail", "option",
        "is", "are", "was", "will", "can", "should", "may", "might", "could", "would",
        "run", "runs", "check", "checks", "build", "builds", "send", "sends", "read", "reads",
        "write", "writes", "find", "finds", "keep", "keeps", "return", "returns", "handle", "handles",
        "start", "starts", "finish", "finishes", "retry", "retries", "wait", "waits", "split", "merge",
        "quickly", "carefully", "later", "first", "then", "next", "again", "often", "rarely", "usually",
        "new", "old", "large", "small", "simple", "complex", "stable", "recent", "remote", "local",
        "fast", "slow", "clear", "useful", "likely", "possible", "common", "separate", "shared", "final",
        "and", "or", "but", "so", "because", "while", "when", "if", "after", "before",
        "with", "without", "from", "into", "over", "under", "between", "through", "about", "across",
        "each", "every", "some", "many", "few", "more", "less", "most", "several", "this",
        "that", "these", "those", "it", "they", "we", "you", "one", "two", "three",
        "user", "input", "output", "error", "timeout", "limit", "budget", "cost", "latency", "score",
        "memory", "cache", "index", "source", "target", "report", "review", "draft", "outline", "note",
    ];
}
