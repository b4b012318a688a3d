using AgentOrchestrator.Messaging;
using HelloFlows;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.Services.AddMessageBus(builder.Configuration);
builder.Services.AddHelloFlows(builder.Configuration);

WebApplication app = builder.Build();
await app.RunAsync();
