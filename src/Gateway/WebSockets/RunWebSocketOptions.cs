using System.ComponentModel.DataAnnotations;

namespace AgentOrchestrator.Gateway.WebSockets;

/// <summary>The plain WebSocket subscriber endpoint's own limits (configuration section "Gateway:WebSockets").</summary>
public sealed class RunWebSocketOptions
{
    public const string SectionName = "Gateway:WebSockets";

    /// <summary>Largest client message taken, in bytes (a tenant's MaxMessageBytes may lower it); a larger one is refused.</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 16 * 1024;

    /// <summary>Refused messages (malformed, oversized, binary) a connection may send before it is closed with 1008.</summary>
    [Range(1, 10_000)]
    public int MaxInvalidMessages { get; set; } = 10;

    /// <summary>
    /// A connection that sent nothing and was sent nothing for this long gets a {"type":"ping"} frame, from one timer
    /// over all connections (keeps proxies from dropping idle connections; a dead peer's socket fails on the write).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);
}
