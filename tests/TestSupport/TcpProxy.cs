using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// A loopback TCP proxy in front of a server, so a test can break a client's connections for real: every byte
/// passes through it, and <see cref="CutAll"/> resets every open connection (RST both ways, as a dropped network or
/// a killed load balancer would) while new connections are still accepted.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private volatile IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, Link> _links = new();
    private readonly Task _acceptLoop;
    private long _nextId;
    private int _accepted;
    private int _refused;
    private volatile bool _refusing;

    private TcpProxy(IPEndPoint target)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _acceptLoop = AcceptAsync(_stop.Token);
    }

    /// <summary>Where clients connect instead of the target (http://127.0.0.1:port/).</summary>
    public Uri Address { get; }

    /// <summary>Connections accepted so far (a reconnecting client adds to it).</summary>
    public int AcceptedConnections => Volatile.Read(ref _accepted);

    /// <summary>Connections reset on arrival while <see cref="Refusing"/> was set.</summary>
    public int RefusedConnections => Volatile.Read(ref _refused);

    /// <summary>While true, new connections are reset as soon as they arrive: the server looks down to clients.</summary>
    public bool Refusing
    {
        get => _refusing;
        set => _refusing = value;
    }

    /// <summary>Connections currently open through the proxy.</summary>
    public int OpenConnections => _links.Count;

    /// <summary>A proxy forwarding to <paramref name="target"/>'s host and port (a loopback address).</summary>
    public static TcpProxy Start(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new TcpProxy(new IPEndPoint(IPAddress.Parse(target.Host), target.Port));
    }

    /// <summary>The server new connections are forwarded to.</summary>
    public Uri Target => new($"http://{_target}/");

    /// <summary>
    /// Sends new connections to <paramref name="target"/> (a loopback address) from now on; open ones stay where they
    /// are. A load balancer taking a dead server out of its pool, or adding a new one, does this.
    /// </summary>
    public void Retarget(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
    }

    /// <summary>Resets every open connection; returns how many there were.</summary>
    public int CutAll()
    {
        var cut = 0;
        foreach (var (id, link) in _links)
        {
            if (_links.TryRemove(id, out _))
            {
                link.Reset();
                cut++;
            }
        }
        return cut;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        CutAll();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            if (_refusing)
            {
                Interlocked.Increment(ref _refused);
                new Link(client, null).Reset();
                continue;
            }
            Interlocked.Increment(ref _accepted);
            _ = ForwardAsync(client, cancellationToken);
        }
    }

    private async Task ForwardAsync(Socket client, CancellationToken cancellationToken)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        var link = new Link(client, server);
        var id = Interlocked.Increment(ref _nextId);
        try
        {
            await server.ConnectAsync(_target, cancellationToken);
            _links[id] = link;
            await Task.WhenAny(PumpAsync(client, server, cancellationToken), PumpAsync(server, client, cancellationToken));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The target refused, the proxy stopped, or the link was cut: closing below is all there is to do.
        }
        finally
        {
            if (_links.TryRemove(id, out _))
            {
                link.Close();
            }
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Either side went away (or was cut).
        }
    }

    private sealed class Link(Socket client, Socket? server)
    {
        /// <summary>Abortive close (linger 0): both peers get a connection reset, not an orderly end.</summary>
        public void Reset()
        {
            foreach (var socket in server is null ? [client] : new[] { client, server })
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // Already closed.
                }
                socket.Dispose();
            }
        }

        public void Close()
        {
            client.Dispose();
            server?.Dispose();
        }
    }
}
