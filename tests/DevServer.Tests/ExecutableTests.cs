using System.Diagnostics;
using Temporalio.Client;

namespace AgentOrchestrator.DevServer.Tests;

/// <summary>The dev server as a separate process, the way `dotnet run --project src/DevServer` runs it.</summary>
public sealed class ExecutableTests
{
    [Fact]
    public async Task Executable_StartedWithPortZero_PrintsListeningServesClientsAndStopsOnSigterm()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "AgentOrchestrator.DevServer.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--port", "0", "--ip", "127.0.0.1", "--namespace", "exe-tests" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        try
        {
            var listening = await ReadListeningLineAsync(process);
            Assert.Matches(@"^listening on 127\.0\.0\.1:\d+$", listening);
            var target = listening["listening on ".Length..];

            var client = await TemporalClient.ConnectAsync(new TemporalClientConnectOptions(target) { Namespace = "exe-tests" });
            var info = await client.Connection.WorkflowService.GetSystemInfoAsync(new Temporalio.Api.WorkflowService.V1.GetSystemInfoRequest());
            Assert.True(info.Capabilities.SdkMetadata);

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task<string> ReadListeningLineAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException("dev server exited before listening: " + await process.StandardError.ReadToEndAsync(timeout.Token));
            if (line.StartsWith("listening on ", StringComparison.Ordinal))
            {
                return line;
            }
        }
    }
}
