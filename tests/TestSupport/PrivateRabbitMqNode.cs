using System.Diagnostics;
using System.Globalization;

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// A RabbitMQ node of a test's own (Debian's rabbitmq-server, run as the current user on free loopback ports, its
/// data, logs and Erlang cookie in a temporary directory), for tests that stop and start the broker: the shared broker
/// other tests use is never touched. Always stopped and deleted on dispose.
/// </summary>
public sealed class PrivateRabbitMqNode : IAsyncDisposable
{
    private const string BinDirectory = "/usr/lib/rabbitmq/bin";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);
    private readonly Process _server;
    private readonly string _directory;
    private readonly string _node;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();
    private int _disposed;

    private PrivateRabbitMqNode(Process server, string directory, string node, int port)
    {
        _server = server;
        _directory = directory;
        _node = node;
        Uri = new Uri($"amqp://guest:guest@127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
    }

    public Uri Uri { get; }

    public static async Task<PrivateRabbitMqNode> StartAsync()
    {
        if (!File.Exists(Path.Combine(BinDirectory, "rabbitmq-server")))
        {
            throw new InvalidOperationException($"rabbitmq-server is not installed in {BinDirectory}: run ./scripts/ensure-rabbitmq.sh (Debian's package).");
        }
        var port = ServiceProcess.FreePort();
        var node = $"ao-{port.ToString(CultureInfo.InvariantCulture)}@localhost";
        var directory = Directory.CreateTempSubdirectory("ao-rabbitmq-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "enabled_plugins"), "[].");
        var start = Command("rabbitmq-server", directory, node);
        start.Environment["RABBITMQ_NODE_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_DIST_PORT"] = ServiceProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        start.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(directory, "mnesia");
        start.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(directory, "log");
        start.Environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(directory, "rabbitmq");
        start.Environment["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(directory, "advanced.config");
        start.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(directory, "enabled_plugins");
        start.Environment["RABBITMQ_PID_FILE"] = Path.Combine(directory, "rabbitmq.pid");
        var server = new Process { StartInfo = start };
        var privateNode = new PrivateRabbitMqNode(server, directory, node, port);
        server.OutputDataReceived += (_, e) => privateNode.OnLine(e.Data);
        server.ErrorDataReceived += (_, e) => privateNode.OnLine(e.Data);
        server.Start();
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            await privateNode.WaitStartedAsync();
            return privateNode;
        }
        catch
        {
            await privateNode.DisposeAsync();
            throw;
        }
    }

    /// <summary>The server's console output, for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    private void OnLine(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    /// <summary>await_startup fails until the node has registered with epmd: ask again until it answers or the server exits.</summary>
    private async Task WaitStartedAsync()
    {
        var deadline = DateTime.UtcNow + CommandTimeout;
        while (true)
        {
            try
            {
                await CtlAsync("await_startup");
                return;
            }
            catch (InvalidOperationException) when (!_server.HasExited && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"{_node} did not start:\n{Output}", e);
            }
        }
    }

    /// <summary>rabbitmqctl stop_app: connections drop, the node stays (its data too).</summary>
    public Task StopAppAsync() => CtlAsync("stop_app");

    public Task StartAppAsync() => CtlAsync("start_app");

    private static ProcessStartInfo Command(string tool, string directory, string node)
    {
        var start = new ProcessStartInfo(Path.Combine(BinDirectory, tool))
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The node's Erlang cookie lives in HOME: a private HOME keeps it apart from the shared broker's.
        start.Environment["HOME"] = directory;
        start.Environment["RABBITMQ_NODENAME"] = node;
        start.Environment["ERL_EPMD_ADDRESS"] = "127.0.0.1";
        return start;
    }

    private async Task CtlAsync(string command)
    {
        var start = Command("rabbitmqctl", _directory, _node);
        start.ArgumentList.Add("-n");
        start.ArgumentList.Add(_node);
        start.ArgumentList.Add(command);
        using var ctl = Process.Start(start) ?? throw new InvalidOperationException("rabbitmqctl did not start");
        var output = ctl.StandardOutput.ReadToEndAsync();
        var errors = ctl.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await ctl.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            ctl.Kill(entireProcessTree: true);
            throw new TimeoutException($"rabbitmqctl {command} on {_node} did not finish in {CommandTimeout}");
        }
        if (ctl.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {command} on {_node} failed ({ctl.ExitCode}): {await output}{await errors}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            await CtlAsync("stop");
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // The node may never have come up; the process kill below is what must happen.
        }
        if (!_server.HasExited)
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }
        _server.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
