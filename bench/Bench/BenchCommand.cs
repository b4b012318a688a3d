using System.Globalization;

namespace AgentOrchestrator.Bench;

internal static class BenchCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var scenario = args.Length > 0 ? args[0] : "devserver";
        var smoke = args.Contains("--smoke");
        var workflows = smoke ? 20 : ReadInt(args, "--workflows", 500);
        switch (scenario)
        {
            case "devserver":
                await DevServerThroughput.RunAsync(workflows);
                return 0;
            case "token-latency":
                await TokenLatency.RunAsync(smoke ? [1] : [1, 50], includeDistributed: !args.Contains("--embedded-only"));
                return 0;
            default:
                await Console.Error.WriteLineAsync($"unknown scenario '{scenario}' (known: devserver, token-latency)");
                return 2;
        }
    }

    private static int ReadInt(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
