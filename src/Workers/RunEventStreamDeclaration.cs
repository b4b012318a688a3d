using AgentOrchestrator.Contracts;
using AgentOrchestrator.Messaging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace AgentOrchestrator.Workers;

/// <summary>
/// Publish-side topology: before the Temporal worker takes any task, the run-event stream exists and is bound to the
/// exchange the worker publishes to, so events published before any gateway runs are kept for replay. RabbitMQ
/// transport only (the in-memory bus has no stream). See docs/replay-tier.md.
/// </summary>
internal sealed partial class RunEventStreamDeclaration(
    IOptions<MessageBusOptions> bus, IOptions<RunEventStreamOptions> stream, ILogger<RunEventStreamDeclaration> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (bus.Value.Transport != BusTransport.RabbitMq)
        {
            return;
        }
        var uri = bus.Value.RabbitMqUri ?? throw new InvalidOperationException("Bus:RabbitMqUri is required when Bus:Transport is RabbitMq.");
        var factory = new ConnectionFactory { Uri = uri, ClientProvidedName = "agent-worker-topology" };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var exchange = RunEventStreamTopology.ExchangeOf<RunEventsPublished>();
        await RunEventStreamTopology.DeclareAsync(channel, stream.Value, exchange, cancellationToken);
        StreamDeclared(logger, stream.Value.Name, exchange, stream.Value.MaxAge);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Run-event stream {Stream} bound to exchange {Exchange}, retention {MaxAge}")]
    private static partial void StreamDeclared(ILogger logger, string stream, string exchange, TimeSpan maxAge);
}
