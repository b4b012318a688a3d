namespace AgentOrchestrator.DevServer;

/// <summary>Settings of the embedded Temporal-compatible dev server (configuration section "DevServer").</summary>
public sealed class DevServerOptions
{
    public const string SectionName = "DevServer";

    /// <summary>Address the gRPC endpoint binds to.</summary>
    public string Ip { get; set; } = "127.0.0.1";

    /// <summary>gRPC port; 0 picks a free port.</summary>
    public int Port { get; set; } = 7233;

    /// <summary>The default namespace, registered at start-up (requests with an empty namespace address it).</summary>
    public string Namespace { get; set; } = "default";

    /// <summary>More namespaces registered at start-up; others only through RegisterNamespace (an unknown namespace is NOT_FOUND).</summary>
    public List<string> Namespaces { get; set; } = [];

    /// <summary>
    /// SQLite file that keeps every workflow across restarts (created if missing); null or empty keeps state in
    /// memory only (a restart loses everything).
    /// </summary>
    public string? DatabasePath { get; set; }

    /// <summary>
    /// With a database: also sync every commit to disk (SQLite synchronous=FULL), so answered calls survive a power
    /// loss or OS crash too. Off (synchronous=NORMAL in WAL mode), answered calls survive the process being killed
    /// (each commit is in the operating system before the answer goes out) and the file is never corrupted, but a power
    /// loss can roll back the last commits; it is much faster where an fsync is slow.
    /// </summary>
    public bool SyncCommitsToDisk { get; set; }

    /// <summary>
    /// Every worker runs in this server's process (the embedded host): after a restart, workflow and activity tasks
    /// that were started died with their workers, so they time out at once and are retried instead of waiting out
    /// their timeouts. Off, a started task keeps its token: a worker that outlived the server may still complete it.
    /// </summary>
    public bool WorkersInProcess { get; set; }

    /// <summary>How long closed workflow runs are kept before they are dropped.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Longest a task poll is held open (the real matching service holds one minute).</summary>
    public TimeSpan MaxTaskPollWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest a history long poll, update wait or update poll is held (the real server uses 20 s).</summary>
    public TimeSpan MaxLongPollWait { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Workflow task timeout used when a start request leaves it unset.</summary>
    public TimeSpan DefaultWorkflowTaskTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest request accepted (the SDK accepts responses up to 128 MiB).</summary>
    public int MaxReceiveMessageSize { get; set; } = 128 * 1024 * 1024;

    /// <summary>
    /// Route a run's next workflow task to the worker that has it cached (its sticky queue), with only
    /// the new events, as the real server does; off means every task goes to the normal queue with full history.
    /// </summary>
    public bool StickyDispatch { get; set; } = true;

    /// <summary>History length (events) from which workflow tasks suggest continue-as-new (Temporal's default 4096).</summary>
    public int SuggestContinueAsNewHistoryLength { get; set; } = 4 * 1024;

    /// <summary>History size (bytes) from which workflow tasks suggest continue-as-new (Temporal's default 4 MiB).</summary>
    public long SuggestContinueAsNewHistorySize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Page size for history and list calls that ask for the server default.</summary>
    public int DefaultPageSize { get; set; } = 1000;
}
