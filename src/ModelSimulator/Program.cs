using AgentOrchestrator.ModelSimulator;
using Serilog;
using Serilog.Events;

// Stand-alone simulator; other hosts compose it with AddModelSimulator + MapModelSimulator.
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:5080");
}

builder.Services.AddSerilog(logger => logger
    .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
    .ReadFrom.Configuration(builder.Configuration)
    .WriteTo.Console());
builder.Services.AddModelSimulator();

WebApplication app = builder.Build();
app.MapModelSimulator();
await app.RunAsync();
