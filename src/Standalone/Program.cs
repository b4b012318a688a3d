using AgentOrchestrator.DevServer;
using AgentOrchestrator.Gateway;
using AgentOrchestrator.Messaging;
using AgentOrchestrator.ModelSimulator;
using AgentOrchestrator.ServiceDefaults;
using AgentOrchestrator.Standalone;
using AgentOrchestrator.Workers;

// Everything in one process: dotnet run --project src/Standalone [--urls http://127.0.0.1:5000] [--data-dir DIR | --ephemeral]
var (dataDirectory, arguments) = EmbeddedDataDirectory.FromArguments(args);
var builder = WebApplication.CreateBuilder(arguments);
builder.Configuration.AddInMemoryCollection(EmbeddedDefaults.For(builder.Configuration, dataDirectory));
builder.Configuration.AddEnvironmentVariables().AddCommandLine(arguments); // user settings keep precedence over the defaults
builder.AddServiceDefaults();
builder.Services.AddTemporalDevServer();
builder.Services.AddModelSimulator();
builder.Services.AddMessageBus(builder.Configuration, bus => bus.AddRunGatewayConsumers(builder.Configuration));
builder.Services.AddAgentWorker(builder.Configuration);
builder.Services.AddRunGateway(builder.Configuration, builder.Environment).UseEmbeddedMode();

var app = builder.Build();
app.MapModelSimulator();
app.MapRunGateway();
app.MapDefaultEndpoints();
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine($"AgentOrchestrator (embedded) is ready: open {app.Urls.First()}"));
dataDirectory.LogChoice(app.Logger);
app.Run();
