using System.Text.RegularExpressions;
using AgentOrchestrator.StackSupport;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.Client.Tests;

/// <summary>
/// The whole product in this process, as src/Standalone composes it (gateway, worker, in-memory bus) plus a dev
/// server and a paced model simulator, with the gateway reached through a <see cref="TcpProxy"/> the tests cut.
/// A prompt containing <c>faultonce-KEY-cut-N</c> has its first model request (only) cut after N tokens by the
/// simulator, so that step's attempt 1 fails mid-stream and Temporal retries it.
/// </summary>
public sealed partial class ClientStackFixture : IAsyncLifetime
{
    private const string SigningKey = "client-tests-signing-key-0123456789abcdef";
    private InProcessDeployment? _deployment;

    /// <summary>The gateway's own address (not through the proxy).</summary>
    public Uri Gateway { get; private set; } = null!;

    /// <summary>The proxy in front of the gateway: clients under test connect here.</summary>
    public TcpProxy Proxy { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var usedFaultKeys = new FaultKeys();
        _deployment = await InProcessDeployment.StartAsync(new InProcessDeploymentOptions
        {
            // Paced so that a run streams for a few seconds: long enough to cut connections mid-stream.
            Simulator = o =>
            {
                o.TimeToFirstToken = TimeSpan.FromMilliseconds(100);
                o.TokensPerSecond = 40;
            },
            SigningKey = SigningKey,
            Settings = new Dictionary<string, string?> { ["Auth:DevTokens"] = "true" },
            ConfigureServices = services => services.AddHttpClient(ChatModelFactory.HttpClientName).AddHttpMessageHandler(() => new FaultOnceHandler(usedFaultKeys)),
            MapDefaultEndpoints = true,
        });

        Gateway = _deployment.Address;
        Proxy = TcpProxy.Start(Gateway);
        Http = new HttpClient { BaseAddress = Gateway };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    public static string NewTenant() => "t" + Guid.NewGuid().ToString("N")[..12];

    public Task<string> DevTokenAsync(string tenant) => DevTokens.IssueAsync(Gateway, tenant, "client-tests");

    /// <summary>A client for <paramref name="tenant"/> that reaches the gateway through the proxy.</summary>
    public AgentOrchestratorClient ClientFor(string tenant, Action<AgentOrchestratorClientOptions>? configure = null)
    {
        var options = new AgentOrchestratorClientOptions
        {
            BaseAddress = Proxy.Address,
            AccessTokenProvider = async cancellationToken => await DevTokenAsync(tenant),
            Reconnect = new ReconnectOptions { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(2), MaxAttempts = 20 },
        };
        configure?.Invoke(options);
        return new AgentOrchestratorClient(options);
    }

    /// <summary>Adds the simulator's fault header to the first model request whose body names a fault-once key.</summary>
    private sealed class FaultKeys
    {
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);
        private readonly Lock _gate = new();

        public bool FirstUse(string key)
        {
            lock (_gate)
            {
                return _used.Add(key);
            }
        }
    }

    private sealed partial class FaultOnceHandler(FaultKeys keys) : DelegatingHandler
    {

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is not null)
            {
                await request.Content.LoadIntoBufferAsync(cancellationToken);
                var match = FaultMarker().Match(await request.Content.ReadAsStringAsync(cancellationToken));
                if (match.Success && keys.FirstUse(match.Groups["key"].Value))
                {
                    request.Headers.Add("X-Simulator-Fault", "cut:" + match.Groups["tokens"].Value);
                }
            }
            return await base.SendAsync(request, cancellationToken);
        }

        [GeneratedRegex(@"faultonce-(?<key>[a-z0-9]+)-cut-(?<tokens>\d+)")]
        private static partial Regex FaultMarker();
    }
}

[CollectionDefinition(Name)]
public sealed class ClientStackGroup : ICollectionFixture<ClientStackFixture>
{
    public const string Name = "client-stack";
}
