using System.Globalization;

namespace AgentOrchestrator.DevServer;

/// <summary>Reads --port, --ip, --namespace and --log-level for the executable.</summary>
internal static class DevServerCommandLine
{
    public static DevServerOptions Parse(string[] args)
    {
        var options = new DevServerOptions();
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
                default:
                    throw new ArgumentException($"unknown option {args[i]} (expected --port, --ip, --namespace)");
            }
            i++;
        }
        return options;
    }
}
