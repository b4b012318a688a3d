using Temporalio.Api.Version.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>
/// GetClusterInfo for the Temporal UI and tctl-style tools. The UI turns on its advanced visibility features (the
/// query builder, counts by status) for servers newer than 1.19, which this server's visibility supports.
/// </summary>
internal static class ClusterInfo
{
    public const string ServerVersion = "1.29.0";

    private static readonly string s_clusterId = Guid.NewGuid().ToString();

    public static GetClusterInfoResponse Describe(DevServerOptions options) =>
        new()
        {
            ServerVersion = ServerVersion,
            ClusterId = s_clusterId,
            ClusterName = Namespaces.NamespaceRegistry.ClusterName,
            HistoryShardCount = 1,
            PersistenceStore = string.IsNullOrEmpty(options.DatabasePath) ? "memory" : "sqlite",
            VisibilityStore = string.IsNullOrEmpty(options.DatabasePath) ? "memory" : "sqlite",
            FailoverVersionIncrement = 10,
            InitialFailoverVersion = 1,
            VersionInfo = new VersionInfo { Current = new ReleaseInfo { Version = ServerVersion } },
            SupportedClients =
            {
                ["temporal-cli"] = "< 2.0.0",
                ["temporal-go"] = "< 2.0.0",
                ["temporal-java"] = "< 2.0.0",
                ["temporal-typescript"] = "< 2.0.0",
                ["temporal-server"] = "< 2.0.0",
                ["temporal-ui"] = "< 3.0.0",
            },
        };
}
