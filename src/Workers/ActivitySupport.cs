using System.ClientModel;
using System.Net;
using Microsoft.SemanticKernel;
using Temporalio.Activities;

namespace AgentOrchestrator.Workers;

/// <summary>What the streaming model activities and the tool activity share: heartbeats and error classification.</summary>
internal static class ActivitySupport
{
    /// <summary>
    /// Heartbeats every <paramref name="interval"/> until stopped, also while the model or tool is silent, so a live
    /// worker is never taken for dead; the server's answer to a heartbeat is how a cancel reaches the activity.
    /// </summary>
    public static async Task HeartbeatAsync(ActivityExecutionContext context, TimeSpan interval, TimeProvider time, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            do
            {
                context.Heartbeat();
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException)
        {
            // The activity ended.
        }
    }

    /// <summary>
    /// The HTTP status when the model rejected the request itself (4xx other than timeout and rate limiting: a wrong
    /// request, auth, unknown model), which retrying cannot fix; null otherwise. Semantic Kernel reports it as
    /// HttpOperationException, or (streaming) as the OpenAI client's ClientResultException.
    /// </summary>
    public static int? RejectedStatus(Exception e)
    {
        int? status = e switch
        {
            HttpOperationException { StatusCode: { } code } => (int)code,
            ClientResultException { Status: > 0 } result => result.Status,
            _ => null,
        };
        return status is >= 400 and < 500 and not ((int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests)
            ? status
            : null;
    }
}
