namespace AgentOrchestrator.Gateway.Auth;

/// <summary>
/// How the host runs the gateway. Embedded (everything in one process, for trying it out) is a decision of the host's
/// code, not of configuration, so a production deployment cannot turn dev tokens on by a stray setting.
/// </summary>
public sealed record GatewayHostMode(bool Embedded)
{
    public static GatewayHostMode Distributed { get; } = new(false);
}
