using System.Collections.Concurrent;
using AgentOrchestrator.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;

namespace AgentOrchestrator.ServiceDefaults.Tests.Telemetry;

/// <summary>The tracing exporter is chosen by configuration, said at start-up, and bad settings stop the host with the key named.</summary>
public sealed class TracingConfigurationTests
{
    [Theory]
    [InlineData("Development", "Traces: console exporter")]
    [InlineData("Production", "Traces: not exported")]
    public async Task AddTelemetryTracing_ExporterUnset_EnvironmentDefaultIsLoggedAsDefault(string environment, string expected)
    {
        var logs = new LogCapture();
        using var host = Build(environment, new Dictionary<string, string?>(), logs);

        await host.StartAsync();

        var line = Assert.Single(logs.Lines, l => l.StartsWith("Traces:", StringComparison.Ordinal));
        Assert.StartsWith(expected, line, StringComparison.Ordinal);
        Assert.Contains("default for this environment", line, StringComparison.Ordinal);
        Assert.Equal(environment == "Development", host.Services.GetService<TracerProvider>() is not null);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddTelemetryTracing_OtlpOverHttp_ProviderBuiltAndEndpointWithSignalPathLogged()
    {
        var logs = new LogCapture();
        using var host = Build("Production", new Dictionary<string, string?>
        {
            ["Telemetry:Tracing:Exporter"] = "Otlp",
            ["Telemetry:Tracing:OtlpEndpoint"] = "http://127.0.0.1:4318",
            ["Telemetry:Tracing:OtlpProtocol"] = "http/protobuf",
            ["Telemetry:Tracing:SamplingRatio"] = "0.25",
        }, logs);

        await host.StartAsync();

        Assert.NotNull(host.Services.GetService<TracerProvider>());
        Assert.Contains("Traces: OTLP to http://127.0.0.1:4318/ over http/protobuf, sampling ratio 0.25", logs.Lines);
        await host.StopAsync();
    }

    [Theory]
    [InlineData("Telemetry:Tracing:OtlpProtocol", "carrier-pigeon", "Telemetry:Tracing:OtlpProtocol")]
    [InlineData("Telemetry:Tracing:SamplingRatio", "1.5", "SamplingRatio")]
    [InlineData("Telemetry:Tracing:OtlpEndpoint", "collector:4317", "Telemetry:Tracing:OtlpEndpoint")]
    public async Task AddTelemetryTracing_InvalidSetting_StartFailsNamingIt(string key, string value, string named)
    {
        using var host = Build("Production", new Dictionary<string, string?> { [key] = value }, new LogCapture());

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddTelemetryTracing_UnknownExporter_RefusedAtRegistrationNamingTheKey()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production", DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Telemetry:Tracing:Exporter"] = "Zipkin" });

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddTelemetryTracing());

        Assert.Contains("Telemetry:Tracing:Exporter", error.Message, StringComparison.Ordinal);
    }

    private static IHost Build(string environment, Dictionary<string, string?> settings, LogCapture logs)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddProvider(logs);
        builder.AddTelemetryTracing();
        return builder.Build();
    }

    private sealed class LogCapture : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyList<string> Lines => _lines.ToList();

        public ILogger CreateLogger(string categoryName) => new Logger(_lines);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue(formatter(state, exception));
        }
    }
}
