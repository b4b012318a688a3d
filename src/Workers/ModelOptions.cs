namespace AgentOrchestrator.Workers;

/// <summary>Which kind of endpoint <see cref="ModelOptions.Endpoint"/> is.</summary>
public enum ModelProvider
{
    /// <summary>Any OpenAI-compatible Chat Completions endpoint: the model simulator, OpenAI, Ollama, vLLM.</summary>
    OpenAICompatible,

    /// <summary>An Azure OpenAI resource; model names are deployment names.</summary>
    AzureOpenAI,
}

/// <summary>The model the agent activities call (configuration section "Model").</summary>
public sealed class ModelOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Model";

    /// <summary>Which client talks to the model.</summary>
    public ModelProvider Provider { get; set; } = ModelProvider.OpenAICompatible;

    /// <summary>
    /// OpenAI-compatible base URL including the version path (the simulator's <c>http://127.0.0.1:5080/v1</c>,
    /// <c>https://api.openai.com/v1</c>, Ollama's <c>http://127.0.0.1:11434/v1</c>, a vLLM server's <c>/v1</c>),
    /// or for Azure OpenAI the resource URL (<c>https://NAME.openai.azure.com/</c>).
    /// </summary>
    public Uri Endpoint { get; set; } = new("http://127.0.0.1:5080/v1");

    /// <summary>API key; servers that need none (simulator, Ollama) accept any value.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Model (Azure: deployment) used when a step names none.</summary>
    public string DefaultModel { get; set; } = "sim-1";
}

/// <summary>
/// How token deltas are joined into bus messages (configuration section "Worker:TokenBatching"). A delta goes out
/// as soon as no publish of its step is in flight; deltas that arrive meanwhile wait and go out together. The
/// settings below bound that wait and the message size (see <see cref="TokenBatcher"/>).
/// </summary>
public sealed class TokenBatchingOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Worker:TokenBatching";

    /// <summary>A waiting batch that holds this many characters is closed and published without waiting for the publish in flight.</summary>
    public int MaxChars { get; set; } = 64;

    /// <summary>The longest a delta waits behind a publish in flight before it is published alongside it (its max age).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// At most one token message per step this often when no publish is in flight: a delta after a quieter spell goes
    /// out at once, faster ones join. Bounds the message rate (and the gateways' CPU) of a model faster than the bus's
    /// round trip; raising it (e.g. to the flush interval) trades latency for fewer messages when gateways are short of CPU.
    /// </summary>
    public TimeSpan MinInterval { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// How many token messages of one step may be in flight at once (size or age lets a batch overtake the wait);
    /// 1 publishes strictly one after another. Bounds what a slow or blocked bus holds per streaming step.
    /// </summary>
    public int MaxPublishesInFlight { get; set; } = 4;
}

/// <summary>The agent worker itself (configuration section "Worker").</summary>
public sealed class AgentWorkerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Worker";

    /// <summary>
    /// How often a streaming activity heartbeats, and the longest the Temporal SDK may hold a heartbeat back.
    /// Cancellation reaches an activity through a heartbeat's answer, so this bounds how long a canceled run
    /// keeps its model stream open: a cancel must stop the stream within 1 s, so the default leaves room for the
    /// cancel's own round trips through Temporal.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The Temporal SDK's workflow tracing event listener: fails a workflow task that uses a Task API outside the
    /// workflow's scheduler (Task.Run, a non-workflow timer), an authoring mistake that otherwise shows up later as
    /// nondeterminism. It turns on the runtime's TPL events for every Task in the process, which costs each run about an
    /// eighth of its allocations (docs/performance.md). Unset: on in the Development environment (where flows are
    /// written; Workflows.Tests' workers keep it on), off elsewhere.
    /// </summary>
    public bool? WorkflowTaskTracing { get; set; }
}

/// <summary>Where the worker finds Temporal (configuration section "Temporal").</summary>
public sealed class TemporalOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Temporal";

    /// <summary>host:port of the Temporal frontend (a cluster, Temporal Cloud or the embedded DevServer).</summary>
    public string Target { get; set; } = "127.0.0.1:7233";

    /// <summary>The Temporal namespace the worker polls.</summary>
    public string Namespace { get; set; } = "default";
}
