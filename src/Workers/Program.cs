using AgentOrchestrator.Messaging;
using AgentOrchestrator.ServiceDefaults;
using AgentOrchestrator.Workers;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddMessageBus(builder.Configuration);
builder.Services.AddAgentWorker(builder.Configuration);

WebApplication app = builder.Build();
app.MapDefaultEndpoints();
await app.RunAsync();
