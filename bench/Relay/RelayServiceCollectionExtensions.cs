using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Relay;

public static partial class RelayServiceCollectionExtensions
{
    /// <summary>The relay hub, its model HTTP client and options ("Relay"), validated and logged at start.</summary>
    public static IServiceCollection AddModelRelay(this IServiceCollection services)
    {
        services.AddOptions<RelayOptions>().BindConfiguration(RelayOptions.SectionName)
            .Validate(o => o.Model is { IsAbsoluteUri: true }, "Relay:Model must be the model's absolute base URL, e.g. http://127.0.0.1:5080/v1/.")
            .ValidateOnStart();
        services.AddHttpClient(RelayHub.ModelClient, (provider, http) =>
        {
            http.BaseAddress = provider.GetRequiredService<IOptions<RelayOptions>>().Value.Model;
            http.Timeout = Timeout.InfiniteTimeSpan; // a stream lasts as long as the model talks
        });
        services.AddSignalR();
        services.AddHostedService<StartupLog>();
        return services;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay: hub at {Path}, model at {Model}")]
    private static partial void RelayReady(ILogger logger, string path, Uri? model);

    private sealed class StartupLog(IOptions<RelayOptions> options, ILogger<RelayOptions> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            RelayReady(logger, RelayHub.Path, options.Value.Model);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
