using System.Runtime.InteropServices;
using System.Text;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Delivery;

/// <summary>
/// What sending one event costs in outbound bandwidth: its JSON size, estimated without serializing it (the
/// scheduler and the per-tenant byte counters use this, so they agree with each other; transport framing is not in it).
/// </summary>
internal static class DeliveryCost
{
    // Property names, quotes, the attempt/index numbers and the timestamp of a serialized RunEvent.
    private const int JsonOverheadBytes = 160;

    public static long EstimateBytes(RunEvent runEvent)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        var bytes = JsonOverheadBytes + Utf8(runEvent.Id) + Utf8(runEvent.RunId) + Utf8(runEvent.TenantId) + Utf8(runEvent.Type)
            + Utf8(runEvent.Step) + Utf8(runEvent.Agent) + Utf8(runEvent.Text);
        if (runEvent.Data is { } data)
        {
            bytes += JsonMarshal.GetRawUtf8Value(data).Length;
        }
        return bytes;
    }

    private static long Utf8(string? text) => text is null ? 0 : Encoding.UTF8.GetByteCount(text);
}
