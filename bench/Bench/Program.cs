using AgentOrchestrator.Bench;

// dotnet run -c Release --project bench/Bench -- devserver [--workflows 500] [--smoke]
// dotnet run -c Release --project bench/Bench -- token-latency [--embedded-only] [--smoke]   (build the solution in Release first)
return await BenchCommand.RunAsync(args);
