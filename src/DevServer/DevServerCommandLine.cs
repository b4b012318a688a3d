using System.Globalization;

namespace AgentOrchestrator.DevServer;

/// <summary>Reads --port, --ip, --namespace and --log-level (debug shows one line per workflow state change).</summary>
internal static class DevServerCommandLine
{
    public static (DevServerOptions Options, Serilog.Events.LogEventLevel LogLevel) Parse(string[] args)
    {
        var options = new DevServerOptions();
        var logLevel = Serilog.Events.LogEventLevel.Information;
        for (var i = 0; i < args.Length; i++)
        {
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
                    options.Namespace = value;
                    break;
                case "--log-level":
                    logLevel = Enum.Parse<Serilog.Events.LogEventLevel>(value, ignoreCase: true);
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]} (expected --port, --ip, --namespace, --log-level)");
            }
            i++;
        }
        return (options, logLevel);
    }
}
