using AgentOrchestrator.DevServer.Engine;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>
/// Every answer, success or refusal, waits until the state changes behind it are stored (immediate in
/// memory), and engine refusals become gRPC statuses.
/// </summary>
internal sealed class EngineCallInterceptor(WorkflowEngine engine) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        TResponse response;
        try
        {
            response = await continuation(request, context);
        }
        catch (Exception error) when (EngineErrorMapper.IsEngineError(error))
        {
            // A refusal may still have written (a rejected workflow task records WorkflowTaskFailed).
            await engine.WhenStoredAsync();
            throw EngineErrorMapper.ToRpcException(error);
        }
        await engine.WhenStoredAsync();
        return response;
    }
}
