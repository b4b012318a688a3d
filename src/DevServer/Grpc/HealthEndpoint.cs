using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Grpc.Health.V1;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>
/// grpc.health.v1.Health/Check, which load balancers, Kubernetes probes and Temporal's own tooling ask the frontend:
/// the server and each of its services answer SERVING while it runs.
/// </summary>
internal sealed class HealthEndpoint : IServiceMethodProvider<HealthEndpoint>
{
    public const string ServiceName = "grpc.health.v1.Health";

    private static readonly HashSet<string> s_services =
        [string.Empty, WorkflowServiceMethodProvider.ServiceName, OperatorServiceMethodProvider.ServiceName];

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<HealthEndpoint> context) =>
        GrpcMethods.AddUnary<HealthEndpoint, HealthCheckRequest, HealthCheckResponse>(context, ServiceName, "Check", (s, r, c) => Check(r, c));

    private static Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context) =>
        s_services.Contains(request.Service)
            ? Task.FromResult(new HealthCheckResponse { Status = HealthCheckResponse.Types.ServingStatus.Serving })
            : throw new RpcException(new Status(StatusCode.NotFound, $"unknown service {request.Service}"));
}
