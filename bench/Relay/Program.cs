using AgentOrchestrator.Relay;

// dotnet run --project bench/Relay -- --urls http://127.0.0.1:5090 --Relay:Model http://127.0.0.1:5080/v1/
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.Services.AddModelRelay();

WebApplication app = builder.Build();
app.MapHub<RelayHub>(RelayHub.Path);
await app.RunAsync();
