using System.Globalization;

namespace AgentOrchestrator.DevServer;

/// <summary>
/// Reads --port, --ip, --namespace (repeatable), --db-filename PATH (durable SQLite state), --sync-commits (fsync every
/// commit), --in-memory (the default) and --log-level (debug shows one line per workflow state change).
/// </summary>
internal static class DevServerCommandLine
{
    public static (DevServerOptions Options, Serilog.Events.LogEventLevel LogLevel) Parse(string[] args)
    {
        var options = new DevServerOptions();
        var logLevel = Serilog.Events.LogEventLevel.Information;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--in-memory")
            {
                options.DatabasePath = null;
                continue;
            }
            if (args[i] == "--sync-commits")
            {
                options.SyncCommitsToDisk = true;
                continue;
            }
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"missing value for {args[i]}");
            switch (args[i])
            {
                case "--port":
                    options.Port = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--ip":
                    options.Ip = value;
                    break;
                case "--namespace":
                    // Repeatable, like Temporal's CLI dev server: each names one more namespace to register.
                    options.Namespaces.Add(value);
                    break;
                case "--db-filename":
                    options.DatabasePath = value;
                    break;
                case "--suggest-continue-as-new-history-length":
                    options.SuggestContinueAsNewHistoryLength = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--log-level":
                    logLevel = Enum.Parse<Serilog.Events.LogEventLevel>(value, ignoreCase: true);
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]} (expected --port, --ip, --namespace, --db-filename, --sync-commits, --in-memory, --suggest-continue-as-new-history-length, --log-level)");
            }
            i++;
        }
        return (options, logLevel);
    }
}
