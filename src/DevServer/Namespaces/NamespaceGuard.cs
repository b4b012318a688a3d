using System.Collections.Concurrent;
using AgentOrchestrator.DevServer.Grpc;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Temporalio.Api.ErrorDetails.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Namespaces;

/// <summary>
/// Refuses any request whose "namespace" field names a namespace that is not registered (NOT_FOUND with a
/// NamespaceNotFoundFailure detail, what the SDK's worker start and client calls see from Temporal). An empty
/// field means the default namespace. RegisterNamespace is the one request that names a namespace to create.
/// </summary>
internal sealed class NamespaceGuard(NamespaceRegistry namespaces) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (request is IMessage message && request is not RegisterNamespaceRequest
            && NamespaceField.Of(message.Descriptor) is { } field
            && field.Accessor.GetValue(message) is string name && name.Length > 0 && !namespaces.Contains(name))
        {
            throw NotFound(name);
        }
        return continuation(request, context);
    }

    public static RpcException NotFound(string name) =>
        GrpcErrors.WithDetail(StatusCode.NotFound, $"Namespace {name} is not found.", new NamespaceNotFoundFailure { Namespace = name });

    /// <summary>The top-level string field named "namespace" of each request type, looked up once per type.</summary>
    private static class NamespaceField
    {
        private static readonly ConcurrentDictionary<MessageDescriptor, FieldDescriptor?> s_fields = new();

        public static FieldDescriptor? Of(MessageDescriptor descriptor) =>
            s_fields.GetOrAdd(descriptor, static d => d.FindFieldByName("namespace") is { FieldType: FieldType.String, IsRepeated: false } f ? f : null);
    }
}
