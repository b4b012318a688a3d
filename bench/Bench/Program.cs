using AgentOrchestrator.Bench;

// dotnet run -c Release --project bench/Bench -- devserver [--workflows 500] [--smoke]
return await BenchCommand.RunAsync(args);
