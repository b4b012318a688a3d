using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// A Redis server of a test's own: Debian's redis-server (scripts/ensure-redis.sh installs it) on a free loopback port,
/// no persistence unless asked (then an append-only file in a directory of its own), stopped on dispose. <see cref="StopAsync"/> and <see cref="RestartAsync"/> let a test take Redis away
/// and bring it back on the same port to check degraded behaviour.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private const string Executable = "/usr/bin/redis-server";
    private readonly string? _directory;
    private Process? _process;

    private RedisServer(int port, string? directory)
    {
        Port = port;
        _directory = directory;
    }

    public int Port { get; }

    /// <summary>StackExchange.Redis configuration string (the value of Tenancy:Redis).</summary>
    public string Configuration => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <param name="appendOnly">
    /// Keep every write in an append-only file (what a production run-event log needs): a write Redis answered is in the
    /// file (the operating system's cache at least), so a kill -9 and <see cref="RestartAsync"/> lose nothing.
    /// </param>
    public static async Task<RedisServer> StartAsync(bool appendOnly = false)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} is not installed: run ./scripts/ensure-redis.sh (scripts/test.sh does).");
        }
        var server = new RedisServer(ServiceProcess.FreePort(), appendOnly ? Directory.CreateTempSubdirectory("ao-redis-").FullName : null);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server (again) on its port and waits until it answers PING.</summary>
    public async Task RestartAsync()
    {
        if (_process is { HasExited: false })
        {
            return;
        }
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] persistence = _directory is null
            ? ["--appendonly", "no"]
            : ["--appendonly", "yes", "--appendfsync", "everysec", "--dir", _directory];
        foreach (var argument in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--protected-mode", "no" }.Concat(persistence))
        {
            start.ArgumentList.Add(argument);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Eventually.TrueAsync(PingAsync, TimeSpan.FromSeconds(60), "redis-server answers PING");
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("PING\r\n"));
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
