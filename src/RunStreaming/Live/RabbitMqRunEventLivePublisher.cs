using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Messaging;
using AgentOrchestrator.RunStreaming.Log;
using AgentOrchestrator.RunStreaming.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace AgentOrchestrator.RunStreaming.Live;

/// <summary>
/// Sends appended entries to the live exchange (a direct exchange; routing key = the run's workflow id), so only the
/// gateways that bound a queue for the run receive them. No publisher confirms: the log is where an entry is
/// committed; a message the broker loses is a gap the gateway fills from the log. One channel, one publish at a time
/// (a RabbitMQ channel does not take concurrent publishes); the client's automatic recovery reconnects it.
/// </summary>
internal sealed partial class RabbitMqRunEventLivePublisher(IOptions<MessageBusOptions> bus, IOptions<RunEventLiveOptions> options,
    RunEventPathMetrics metrics, ILogger<RabbitMqRunEventLivePublisher> logger) : IRunEventLivePublisher, IHostedService, IAsyncDisposable
{
    private readonly SemaphoreSlim _publishGate = new(1, 1);
    private IConnection? _connection;
    private IChannel? _channel;
    private int _failing;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var uri = bus.Value.RabbitMqUri ?? throw new InvalidOperationException("Bus:RabbitMqUri is required when Bus:Transport is RabbitMq.");
        var factory = new ConnectionFactory
        {
            Uri = uri,
            ClientProvidedName = "run-event-live-publisher",
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            RequestedHeartbeat = TimeSpan.FromSeconds(10),
        };
        _connection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
        _channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await RunEventLiveTopology.DeclareAsync(_channel, options.Value, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask PublishAsync(RunLogAppended appended, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(appended);
        var channel = _channel;
        var message = appended.Message;
        if (channel is null || !channel.IsOpen)
        {
            Failed(message.RunId, appended.Seq, null);
            return;
        }
        var body = JsonSerializer.SerializeToUtf8Bytes(message, RunStreamingJsonContext.Default.RunEventsPublished);
        var properties = new BasicProperties
        {
            ContentType = "application/json",
            DeliveryMode = DeliveryModes.Transient,
            Headers = RunLogAppendedHeaders.For(appended),
        };
        await _publishGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await channel.BasicPublishAsync(options.Value.Exchange, RunWorkflowIds.For(message.TenantId, message.RunId), mandatory: false,
                properties, body, cancellationToken).ConfigureAwait(false);
            if (Interlocked.Exchange(ref _failing, 0) == 1)
            {
                PublishingAgain(logger);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Failed(message.RunId, appended.Seq, e);
        }
        finally
        {
            _publishGate.Release();
        }
    }

    private void Failed(string runId, long seq, Exception? exception)
    {
        metrics.LivePublishFailed();
        // One warning per outage, not per token: gateways read what they miss from the log.
        if (Interlocked.Exchange(ref _failing, 1) == 0)
        {
            PublishFailing(logger, exception, runId, seq);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_channel is not null)
        {
            await _channel.DisposeAsync().ConfigureAwait(false);
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        _publishGate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run events: live publishing to RabbitMQ fails (first at run {RunId} entry {Seq}); gateways will read the entries from the log")]
    private static partial void PublishFailing(ILogger logger, Exception? exception, string runId, long seq);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run events: live publishing to RabbitMQ works again")]
    private static partial void PublishingAgain(ILogger logger);
}
