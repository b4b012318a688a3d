using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// One of the project's deployables running as its own process, started from its build output with the
/// same configuration keys an operator would set. Output is kept for failure messages.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<string> _readyLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _readyMarker;
    private int _disposed;

    private ServiceProcess(string name, Process process, string readyMarker)
    {
        Name = name;
        _process = process;
        _readyMarker = readyMarker;
    }

    public string Name { get; }

    /// <summary>The operating-system process id (benchmarks read its memory and runtime events).</summary>
    public int ProcessId => _process.Id;

    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Starts src/&lt;project&gt;'s built assembly with the given arguments and environment.</summary>
    public static ServiceProcess Start(string project, IEnumerable<string> arguments, IDictionary<string, string> environment, string readyMarker)
    {
        var dll = BuildOutput.AssemblyOf(project);
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(project, process, readyMarker);
        process.OutputDataReceived += (_, e) => service.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => service.OnLine(e.Data);
        process.Exited += (_, _) => service._readyLine.TrySetException(new InvalidOperationException($"{project} exited early:\n{service.Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        if (line.Contains(_readyMarker, StringComparison.Ordinal))
        {
            _readyLine.TrySetResult(line);
        }
    }

    /// <summary>Waits for the line that says the service accepts work.</summary>
    public async Task<string> WaitReadyAsync()
    {
        try
        {
            return await _readyLine.Task.WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} did not report '{_readyMarker}' in time:\n{Output}");
        }
    }

    /// <summary>Kills the process (SIGKILL: no graceful shutdown) if it still runs. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    /// <summary>A loopback port nobody listens on, never the same one twice in this process.</summary>
    public static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            // A released port is free again at once: two calls in a row (a gateway's and its dev server's) can get the
            // same one, and the second service then fails to bind.
            if (s_handedOut.TryAdd(port, 0))
            {
                return port;
            }
        }
    }

    private static readonly ConcurrentDictionary<int, byte> s_handedOut = new();
}

/// <summary>Finds a deployable's built assembly next to this test assembly's build output.</summary>
public static class BuildOutput
{
    /// <param name="project">A project under src/ by name ("Gateway"), or elsewhere by its path from the repository root ("bench/Relay").</param>
    public static string AssemblyOf(string project)
    {
        ArgumentNullException.ThrowIfNull(project);
        var folder = project.Contains('/', StringComparison.Ordinal) ? project : Path.Combine("src", project);
        var name = Path.GetFileName(project);
        var testDirectory = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var configuration = new DirectoryInfo(testDirectory).Name.StartsWith("net", StringComparison.Ordinal)
            ? new DirectoryInfo(testDirectory).Parent!.Name   // classic layout: tests/X/bin/<Configuration>/net10.0
            : new DirectoryInfo(testDirectory).Name;          // artifacts layout: artifacts/bin/X/<configuration>
        var candidates = new[]
        {
            Path.Combine(RepositoryRoot(), folder, "bin", configuration, "net10.0", $"AgentOrchestrator.{name}.dll"),
            Path.Combine(new DirectoryInfo(testDirectory).Parent!.Parent!.FullName, name, configuration, $"AgentOrchestrator.{name}.dll"),
        };
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"AgentOrchestrator.{name}.dll is not built; build the solution first (tried: {string.Join(", ", candidates)})");
    }

    public static string RepositoryRoot() =>
        typeof(BuildOutput).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>()
            .Single(a => a.Key == "RepositoryRoot").Value!;
}
