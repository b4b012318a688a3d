using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>
/// Binds unary methods by hand, reusing the SDK's generated message classes (Temporalio.dll has the messages
/// but no server stubs), and remembers every bound path: anything else answers UNIMPLEMENTED.
/// </summary>
internal static class GrpcMethods
{
    private static readonly HashSet<string> s_implemented = new(StringComparer.Ordinal);

    /// <summary>Full paths ("/service/Method") that have a handler.</summary>
    public static bool IsImplemented(string path)
    {
        lock (s_implemented)
        {
            return s_implemented.Contains(path);
        }
    }

    public static void AddUnary<TService, TRequest, TResponse>(ServiceMethodProviderContext<TService> context, string service, string name,
        UnaryServerMethod<TService, TRequest, TResponse> handler)
        where TService : class
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        var method = new Method<TRequest, TResponse>(MethodType.Unary, service, name, MessageMarshaller<TRequest>.Instance, MessageMarshaller<TResponse>.Instance);
        context.AddUnaryMethod(method, [], handler);
        lock (s_implemented)
        {
            s_implemented.Add(method.FullName);
        }
    }

    private static class MessageMarshaller<T>
        where T : class, IMessage<T>, new()
    {
        private static readonly MessageParser<T> s_parser = new(() => new T());

        public static readonly Marshaller<T> Instance = Marshallers.Create(
            static message => message.ToByteArray(),
            static bytes =>
            {
                try
                {
                    return s_parser.ParseFrom(bytes);
                }
                catch (InvalidProtocolBufferException error)
                {
                    throw GrpcErrors.InvalidArgument($"malformed {typeof(T).Name}: {error.Message}");
                }
            });
    }
}
