using AgentOrchestrator.TestSupport;
using Temporalio.Client;

namespace AgentOrchestrator.DevServer.Tests;

/// <summary>
/// A dev server on a SQLite file of the test's own, restarted in the test's process on the same file and port, so
/// clients and workers connected before the restart reconnect to the new server as they would to a real one.
/// </summary>
internal sealed class PersistentServer : IAsyncDisposable
{
    private readonly TimeProvider? _time;
    private readonly Action<DevServerOptions>? _configure;
    private readonly int _port = ServiceProcess.FreePort();
    private DevServerHost? _host;

    public PersistentServer(TimeProvider? time = null, TimeSpan? retention = null, Action<DevServerOptions>? configure = null)
    {
        _time = time;
        _configure = configure;
        Retention = retention ?? TimeSpan.FromHours(24);
        Directory.CreateDirectory(DataDirectory);
    }

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "devserver-persist-" + Guid.NewGuid().ToString("N"));

    public string DatabasePath => Path.Combine(DataDirectory, "dev.db");

    public TimeSpan Retention { get; }

    public string Target => $"127.0.0.1:{_port}";

    public DevServerHost Host => _host ?? throw new InvalidOperationException("not started");

    public DevServerOptions Options()
    {
        var options = new DevServerOptions { Port = _port, DatabasePath = DatabasePath, Retention = Retention };
        _configure?.Invoke(options);
        return options;
    }

    public async Task<PersistentServer> StartAsync()
    {
        _host = await DevServerHost.StartAsync(Options(), _time);
        return this;
    }

    /// <summary>Stops the server cleanly (everything queued is written) and starts a new one on the same file and port.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    public async Task StopAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
            _host = null;
        }
    }

    public Task<TemporalClient> ConnectAsync(string @namespace = "default") =>
        TemporalClient.ConnectAsync(new TemporalClientConnectOptions(Target) { Namespace = @namespace });

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
