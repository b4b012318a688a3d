using AgentOrchestrator.Gateway;
using AgentOrchestrator.Messaging;
using AgentOrchestrator.ServiceDefaults;

// Distributed mode: the gateway alone, with Temporal and the bus from configuration ("Temporal", "Bus", "Auth").
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddMessageBus(builder.Configuration, bus => bus.AddRunGatewayConsumers(builder.Configuration));
builder.Services.AddRunGateway(builder.Configuration, builder.Environment);

var app = builder.Build();
app.MapRunGateway(); // includes the page (embedded static files) at "/"
app.MapDefaultEndpoints();
app.Run();
