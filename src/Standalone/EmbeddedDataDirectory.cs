namespace AgentOrchestrator.Standalone;

/// <summary>
/// Where the embedded host keeps what must survive a restart: <c>./.agent-orchestrator/</c> by default,
/// <c>--data-dir PATH</c> to choose, <c>--ephemeral</c> for the old in-memory behaviour (nothing kept).
/// </summary>
internal sealed record EmbeddedDataDirectory(string? Path)
{
    public const string DefaultPath = ".agent-orchestrator";

    public bool IsEphemeral => Path is null;

    /// <summary>The workflows, histories, threads, pending input and idempotency keys (the dev server's database).</summary>
    public string DevServerDatabase => System.IO.Path.Combine(Path!, "devserver.db");

    /// <summary>The run-event log's journal: the live transcripts (token by token) of runs, kept across a restart.</summary>
    public string RunEventJournal => System.IO.Path.Combine(Path!, "run-events.journal");

    public string TenantOverrides => System.IO.Path.Combine(Path!, "tenant-overrides.json");

    public string DevTokenSigningKey => System.IO.Path.Combine(Path!, "dev-token-signing.key");

    public void LogChoice(ILogger logger)
    {
        if (IsEphemeral)
        {
            StandaloneLog.Ephemeral(logger);
        }
        else
        {
            StandaloneLog.Durable(logger, Path!);
        }
    }

    /// <summary>Reads and removes --data-dir and --ephemeral; the remaining arguments go to the host's configuration.</summary>
    public static (EmbeddedDataDirectory DataDirectory, string[] Remaining) FromArguments(string[] args)
    {
        var remaining = new List<string>(args.Length);
        string? path = DefaultPath;
        var ephemeral = false;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--ephemeral")
            {
                ephemeral = true;
            }
            else if (args[i] == "--data-dir")
            {
                path = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                    ? args[++i]
                    : throw new ArgumentException("--data-dir needs a directory, e.g. --data-dir ./.agent-orchestrator");
            }
            else if (args[i].StartsWith("--data-dir=", StringComparison.Ordinal))
            {
                path = args[i]["--data-dir=".Length..];
            }
            else
            {
                remaining.Add(args[i]);
            }
        }
        return (new EmbeddedDataDirectory(ephemeral ? null : System.IO.Path.GetFullPath(path)), [.. remaining]);
    }
}
