using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Live managed memory of another .NET process, from outside and without an endpoint: an EventPipe session with the
/// runtime's GCHeapCollect keyword makes the runtime run one full blocking GC (what dotnet-gcdump does, without the
/// heap walk); that GC's GCHeapStats event gives the bytes that survived it in every generation. RSS follows GC
/// budgets and heap growth policy; the survivors are the objects actually held.
/// </summary>
internal static class GcHeapProbe
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    /// <summary>Forces a full GC in the process and returns the bytes that survived it (all generations, LOH and POH).</summary>
    public static async Task<long> LiveBytesAfterFullGcAsync(int processId)
    {
        var providers = new[]
        {
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational,
                (long)(ClrTraceEventParser.Keywords.GC | ClrTraceEventParser.Keywords.GCHeapCollect)),
        };
        using var session = new DiagnosticsClient(processId).StartEventPipeSession(providers, requestRundown: false);
        using var source = new EventPipeEventSource(session.EventStream);
        var live = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var inducedFullGc = false;
        source.Clr.GCStart += e => inducedFullGc = e.Depth == 2 && e.Reason is GCReason.Induced or GCReason.InducedNotForced;
        source.Clr.GCHeapStats += e =>
        {
            if (inducedFullGc)
            {
                live.TrySetResult(e.TotalPromotedSize0 + e.TotalPromotedSize1 + e.TotalPromotedSize2 + e.TotalPromotedSize3 + e.TotalPromotedSize4);
            }
        };
        var processing = Task.Run(source.Process);
        try
        {
            return await live.Task.WaitAsync(Timeout);
        }
        finally
        {
            await session.StopAsync(CancellationToken.None);
            await processing;
        }
    }
}
