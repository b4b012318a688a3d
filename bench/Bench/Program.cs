using AgentOrchestrator.Bench;

// Build the solution in Release first, then from the repository root:
// dotnet run -c Release --no-build --project bench/Bench -- <scenario> [--smoke] [--results DIR] [scenario options]
//   all | token-latency [--runs 1,50,500] [--modes direct,relay,embedded,distributed] [--embedded-only] | scale-out [--runs 20] [--rates 250,500,1000]
//   | fanout [--subscribers 1,100,1000,5000]
//   | slow-subscribers [--slow 20] | fair-delivery [--subscribers-a 40] [--subscribers-b 8] [--capacity 163840] | connections [--connections 10000] [--admission-rate 1000] [--transport signalr] | run-throughput [--runs 300] | devserver [--workflows 1000]
//   | chaos [--runs 20] [--faults 3] [--seed N] [--no-browser]
// Each prints a Markdown table (also as JSON rows with --json FILE) and writes a PNG plot to --results (default bench/results/).
return await BenchCommand.RunAsync(args);
