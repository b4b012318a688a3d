using AgentOrchestrator.DevServer;
using Serilog;

// dotnet run --project src/DevServer -- --port 7233 [--ip 127.0.0.1] [--namespace default] [--db-filename dev.db [--sync-commits] | --in-memory] [--log-level debug]
var (options, logLevel) = DevServerCommandLine.Parse(args);
Log.Logger = new LoggerConfiguration().MinimumLevel.Is(logLevel)
    .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
    .WriteTo.Console().CreateLogger();
await using var server = await DevServerHost.StartAsync(options, configureLogging: logging => logging.AddSerilog(Log.Logger));
Console.WriteLine($"listening on {server.Target}");
using var stop = new CancellationTokenSource();
using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
await server.StopAsync();
await Log.CloseAndFlushAsync();
