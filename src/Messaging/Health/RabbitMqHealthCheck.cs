using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RabbitMQ.Client;

namespace AgentOrchestrator.Messaging.Health;

/// <summary>
/// Readiness (/readyz): the RabbitMQ broker of Bus:RabbitMqUri accepts a connection. MassTransit's own "ready" check
/// watches receive endpoints only, so a process that only publishes (the worker) would stay "ready" with its broker
/// down; this check covers it.
/// </summary>
public sealed class RabbitMqHealthCheck(RabbitMqProbe probe) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        probe.CheckAsync(cancellationToken);
}

/// <summary>The readiness check's own connection to the broker (a singleton): kept while open, replaced after it dropped.</summary>
public sealed class RabbitMqProbe(Uri broker) : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    public async Task<HealthCheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { IsOpen: true })
            {
                return HealthCheckResult.Healthy();
            }
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }
            var factory = new ConnectionFactory
            {
                Uri = broker,
                ClientProvidedName = "readiness-probe",
                // This check reconnects on the next probe; the client's own recovery would only hide the outage.
                AutomaticRecoveryEnabled = false,
                RequestedConnectionTimeout = Timeout,
                RequestedHeartbeat = TimeSpan.FromSeconds(10),
            };
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            _connection = await factory.CreateConnectionAsync(timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"RabbitMQ at {broker.Host}:{broker.Port} is unreachable.", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        _gate.Dispose();
    }
}

public static class RabbitMqHealthCheckExtensions
{
    /// <summary>Adds the /readyz check (tag "ready", name "rabbitmq") that <paramref name="broker"/> accepts a connection.</summary>
    public static IHealthChecksBuilder AddRabbitMqReadiness(this IHealthChecksBuilder builder, Uri broker)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(broker);
        // A factory registration, so the container disposes the probe's connection at shutdown.
        builder.Services.AddSingleton(_ => new RabbitMqProbe(broker));
        return builder.Add(new HealthCheckRegistration("rabbitmq",
            provider => new RabbitMqHealthCheck(provider.GetRequiredService<RabbitMqProbe>()), failureStatus: null, tags: ["ready"]));
    }
}
