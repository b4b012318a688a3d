using AgentOrchestrator.DevServer.Namespaces;
using AgentOrchestrator.DevServer.Visibility;
using Grpc.Core;
using Temporalio.Api.OperatorService.V1;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>The RPCs of temporal.api.operatorservice.v1.OperatorService: search attributes per namespace.</summary>
internal sealed class OperatorServiceEndpoint(SearchAttributeRegistry searchAttributes, NamespaceRegistry namespaces)
{
    public Task<ListSearchAttributesResponse> ListSearchAttributes(ListSearchAttributesRequest request, ServerCallContext context)
    {
        var response = new ListSearchAttributesResponse();
        response.CustomAttributes.Add(searchAttributes.Custom(Namespace(request.Namespace)));
        response.SystemAttributes.Add(SearchAttributeRegistry.SystemAttributes.ToDictionary());
        return Task.FromResult(response);
    }

    public Task<AddSearchAttributesResponse> AddSearchAttributes(AddSearchAttributesRequest request, ServerCallContext context)
    {
        if (request.SearchAttributes.Count == 0)
        {
            throw GrpcErrors.InvalidArgument("SearchAttributes are not set on request.");
        }
        Check(searchAttributes.Add(Namespace(request.Namespace), request.SearchAttributes));
        return Task.FromResult(new AddSearchAttributesResponse());
    }

    public Task<RemoveSearchAttributesResponse> RemoveSearchAttributes(RemoveSearchAttributesRequest request, ServerCallContext context)
    {
        if (request.SearchAttributes.Count == 0)
        {
            throw GrpcErrors.InvalidArgument("SearchAttributes are not set on request.");
        }
        Check(searchAttributes.Remove(Namespace(request.Namespace), request.SearchAttributes));
        return Task.FromResult(new RemoveSearchAttributesResponse());
    }

    private string Namespace(string requested) => string.IsNullOrEmpty(requested) ? namespaces.DefaultNamespace : requested;

    private static void Check(SearchAttributeChange change)
    {
        switch (change.Error)
        {
            case SearchAttributeChangeError.None:
                return;
            case SearchAttributeChangeError.Invalid:
                throw GrpcErrors.InvalidArgument($"Search attribute \"{change.Name}\" needs a name and a type.");
            case SearchAttributeChangeError.Reserved:
                throw GrpcErrors.InvalidArgument($"Search attribute {change.Name} is reserved by system.");
            case SearchAttributeChangeError.TypeConflict:
                throw new RpcException(new Status(StatusCode.AlreadyExists, $"Search attribute {change.Name} already exists with another type."));
            case SearchAttributeChangeError.NotFound:
                throw GrpcErrors.NotFound($"Search attribute {change.Name} doesn't exist.");
            default:
                throw new InvalidOperationException($"unhandled search attribute change {change.Error}");
        }
    }
}
