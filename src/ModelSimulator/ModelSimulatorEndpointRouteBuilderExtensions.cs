using AgentOrchestrator.ModelSimulator.Endpoints;
using AgentOrchestrator.ModelSimulator.Protocol;

namespace AgentOrchestrator.ModelSimulator;

/// <summary>Maps the simulator's HTTP endpoints.</summary>
public static class ModelSimulatorEndpointRouteBuilderExtensions
{
    /// <summary>Path of the OpenAI-compatible chat completions endpoint.</summary>
    public const string ChatCompletionsPath = "/v1/chat/completions";

    /// <summary>Path of the counters endpoint (JSON of <see cref="ModelSimulatorStats"/>).</summary>
    public const string StatsPath = "/v1/sim/stats";

    /// <summary>
    /// Maps <c>POST /v1/chat/completions</c> and <c>GET /v1/sim/stats</c>.
    /// Needs <see cref="ModelSimulatorServiceCollectionExtensions.AddModelSimulator"/>.
    /// </summary>
    public static IEndpointRouteBuilder MapModelSimulator(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        // Plain request delegates: the handler owns body parsing so that errors keep OpenAI's shape.
        endpoints.MapPost(ChatCompletionsPath, new RequestDelegate(static context =>
            context.RequestServices.GetRequiredService<ChatCompletionsHandler>().HandleAsync(context)));
        endpoints.MapGet(StatsPath, new RequestDelegate(static context =>
            context.Response.WriteAsJsonAsync(
                context.RequestServices.GetRequiredService<ModelSimulatorMetrics>().Snapshot(),
                SimulatorStatsJsonContext.Default.ModelSimulatorStats,
                cancellationToken: context.RequestAborted)));
        return endpoints;
    }
}
