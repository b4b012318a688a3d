using AgentOrchestrator.DevServer.Engine.State;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// History pages. With wait_new_event the call is a long poll: it returns when there is something new
/// (or, for the close-event filter, when the run closes), else empty with a token to poll again.
/// </summary>
internal sealed class HistoryReader(EngineContext context, ExecutionRegistry registry)
{
    public async Task<GetWorkflowExecutionHistoryResponse> GetHistoryAsync(GetWorkflowExecutionHistoryRequest request, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var closeOnly = request.HistoryEventFilterType == HistoryEventFilterType.CloseEvent;
        var from = PageTokens.Parse(request.NextPageToken);
        var pageSize = request.MaximumPageSize > 0 ? request.MaximumPageSize : context.Options.DefaultPageSize;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(maxWait);
        GetWorkflowExecutionHistoryResponse? Page(WorkflowRun run)
        {
            if (closeOnly)
            {
                if (run.CloseEvent is { } close)
                {
                    return new GetWorkflowExecutionHistoryResponse { History = new History { Events = { close } } };
                }
                return request.WaitNewEvent ? null : new GetWorkflowExecutionHistoryResponse { History = new History() };
            }
            var start = Math.Max(from, 1);
            if (request.WaitNewEvent && run.IsOpen && start > run.History.Count)
            {
                return null;
            }
            var page = new GetWorkflowExecutionHistoryResponse { History = new History() };
            var end = Math.Min(run.History.Count, start - 1 + pageSize);
            for (var i = start - 1; i < end; i++)
            {
                page.History.Events.Add(run.History[i]);
            }
            if (end < run.History.Count || (request.WaitNewEvent && run.IsOpen))
            {
                page.NextPageToken = PageTokens.For(end + 1);
            }
            return page;
        }

        while (true)
        {
            // The page and the change signal come from one look under the lock: an event written in between
            // would otherwise be missed until the next one (or the end of the hold).
            var (response, changed) = registry.ReadRun(request.Namespace, request.Execution, run => (Page(run), run.HistoryChanged));
            if (response is not null)
            {
                return response;
            }
            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Still open: an empty page with a token tells the client to ask again.
                return new GetWorkflowExecutionHistoryResponse { History = new History(), NextPageToken = PageTokens.For(from <= 0 ? 1 : from) };
            }
        }
    }
}
