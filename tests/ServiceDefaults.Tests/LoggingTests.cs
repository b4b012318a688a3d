using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.ServiceDefaults.Tests;

public sealed class LoggingTests
{
    [Fact]
    public async Task AddServiceDefaults_SameCategoryTwice_ReturnsOneLoggerPerCategory()
    {
        var builder = WebApplication.CreateBuilder();
        builder.AddServiceDefaults();
        await using var app = builder.Build();
        var factory = app.Services.GetRequiredService<ILoggerFactory>();

        ILogger first = factory.CreateLogger("AgentOrchestrator.Gateway.Hubs.RunsHub");
        ILogger again = factory.CreateLogger("AgentOrchestrator.Gateway.Hubs.RunsHub");
        ILogger other = factory.CreateLogger("AgentOrchestrator.Workers.AgentActivities");

        // Per-connection and per-activity services ask for their logger every time they are created.
        Assert.Same(first, again);
        Assert.NotSame(first, other);
        Assert.True(first.IsEnabled(LogLevel.Information), "Serilog's default level still applies");
        Assert.False(first.IsEnabled(LogLevel.Debug));
    }
}
