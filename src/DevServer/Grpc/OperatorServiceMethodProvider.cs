using Grpc.AspNetCore.Server.Model;
using Temporalio.Api.OperatorService.V1;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>Binds the endpoint's methods to the OperatorService's gRPC routes.</summary>
internal sealed class OperatorServiceMethodProvider : IServiceMethodProvider<OperatorServiceEndpoint>
{
    public const string ServiceName = "temporal.api.operatorservice.v1.OperatorService";

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<OperatorServiceEndpoint> context)
    {
        GrpcMethods.AddUnary<OperatorServiceEndpoint, ListSearchAttributesRequest, ListSearchAttributesResponse>(context, ServiceName, "ListSearchAttributes",
            (s, r, c) => s.ListSearchAttributes(r, c));
        GrpcMethods.AddUnary<OperatorServiceEndpoint, AddSearchAttributesRequest, AddSearchAttributesResponse>(context, ServiceName, "AddSearchAttributes",
            (s, r, c) => s.AddSearchAttributes(r, c));
        GrpcMethods.AddUnary<OperatorServiceEndpoint, RemoveSearchAttributesRequest, RemoveSearchAttributesResponse>(context, ServiceName, "RemoveSearchAttributes",
            (s, r, c) => s.RemoveSearchAttributes(r, c));
    }
}
