namespace AgentOrchestrator.ChaosSupport;

/// <summary>The faults the chaos suite injects, one at a time.</summary>
public enum FaultKind
{
    /// <summary>kill -9 of a worker; a replacement starts afterwards.</summary>
    WorkerKill,

    /// <summary>kill -9 of a gateway; its load balancer entry sends new connections to the other one, a replacement starts.</summary>
    GatewayKill,

    /// <summary>kill -9 of the dev server (durable, --db-filename), restarted on its file and port.</summary>
    DevServerRestart,

    /// <summary>rabbitmqctl stop_app, then start_app.</summary>
    BrokerRestart,

    /// <summary>kill -9 of the run-event log's Redis (append-only file), restarted on its port.</summary>
    RedisRestart,

    /// <summary>Every connection between one gateway and the broker reset, and new ones refused for a while.</summary>
    GatewayBrokerCut,
}
