using AgentOrchestrator.DevServer.Engine;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>
/// Every answer, success or refusal, waits until the state changes behind it are stored (at once in memory; the
/// group commit with SQLite), and engine refusals become gRPC statuses. A store that can no longer write makes
/// every call UNAVAILABLE rather than answer with state that would be lost.
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
            await WhenStoredAsync();
            throw EngineErrorMapper.ToRpcException(error);
        }
        await WhenStoredAsync();
        return response;
    }

    private async Task WhenStoredAsync()
    {
        try
        {
            await engine.WhenStoredAsync();
        }
        catch (DevServerStorageException error)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, error.Message));
        }
    }
}
