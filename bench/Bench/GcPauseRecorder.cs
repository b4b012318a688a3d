using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Records another .NET process's GC pauses from its runtime's own events over EventPipe (what dotnet-trace and
/// PerfView read): a pause lasts from GCSuspendEEStart (the GC starts stopping managed threads) to
/// GCRestartEEStop (they run again), so it includes the time to reach a safe point.
/// </summary>
internal sealed class GcPauseRecorder : IAsyncDisposable
{
    private readonly EventPipeSession _session;
    private readonly Task _processing;
    private readonly List<double> _pausesMs = [];

    private GcPauseRecorder(EventPipeSession session)
    {
        _session = session;
        var source = new EventPipeEventSource(session.EventStream);
        double? suspendedAt = null;
        source.Clr.GCSuspendEEStart += e => suspendedAt = e.TimeStampRelativeMSec;
        source.Clr.GCRestartEEStop += e =>
        {
            if (suspendedAt is { } start)
            {
                lock (_pausesMs)
                {
                    _pausesMs.Add(e.TimeStampRelativeMSec - start);
                }
            }
            suspendedAt = null;
        };
        _processing = Task.Run(source.Process);
    }

    public static GcPauseRecorder Start(int processId)
    {
        var providers = new[]
        {
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, (long)ClrTraceEventParser.Keywords.GC),
        };
        return new GcPauseRecorder(new DiagnosticsClient(processId).StartEventPipeSession(providers, requestRundown: false));
    }

    /// <summary>Ends the session and returns the pauses seen, in milliseconds, sorted.</summary>
    public async Task<List<double>> StopAsync()
    {
        await _session.StopAsync(CancellationToken.None);
        await _processing;
        lock (_pausesMs)
        {
            return [.. _pausesMs.Order()];
        }
    }

    public async ValueTask DisposeAsync()
    {
        _session.Dispose();
        try
        {
            await _processing;
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            // The session was already stopped or the process ended; nothing left to read.
        }
    }
}
