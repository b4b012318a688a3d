namespace AgentOrchestrator.DevServer.Matching;

/// <summary>A queued task; <see cref="TryStart"/> returns null when the task went stale while queued.</summary>
internal interface IDispatchable<TResponse>
    where TResponse : class
{
    DispatchKey Key { get; }

    TResponse? TryStart(string identity);
}

/// <summary>
/// Hands tasks of one task queue to long-polling workers. A poll that is cancelled never takes a task
/// with it: a task is only started (history written, timers armed) by a poll that is still alive, and a
/// task received by a poll that died in between is put back at the front.
/// </summary>
internal sealed class TaskMatcher<TResponse>
    where TResponse : class
{
    private readonly object _gate = new();
    private readonly FairBacklog<IDispatchable<TResponse>> _backlog = new();
    private readonly LinkedList<TaskCompletionSource<IDispatchable<TResponse>>> _waiters = new();

    public void Add(IDispatchable<TResponse> task) => Add(task, atFront: false);

    private void Add(IDispatchable<TResponse> task, bool atFront)
    {
        lock (_gate)
        {
            // Only hand straight to a waiter when nothing is queued, so priority and fairness order hold.
            if (_backlog.Count == 0)
            {
                while (_waiters.First is { } node)
                {
                    _waiters.RemoveFirst();
                    if (node.Value.TrySetResult(task))
                    {
                        return;
                    }
                }
            }
            _backlog.Enqueue(task, task.Key, atFront);
        }
    }

    /// <summary>Takes every queued task out (for re-routing when a queue goes away).</summary>
    public List<IDispatchable<TResponse>> DrainBacklog()
    {
        var drained = new List<IDispatchable<TResponse>>();
        lock (_gate)
        {
            while (_backlog.TryDequeue(out var task))
            {
                drained.Add(task);
            }
        }
        return drained;
    }

    /// <summary>Waits up to <paramref name="maxWait"/> for a task; null means "no task" (an empty poll).</summary>
    public async Task<TResponse?> PollAsync(string identity, TimeSpan maxWait, Action? onWait, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(maxWait);
        while (!timeout.IsCancellationRequested)
        {
            var task = await TakeAsync(onWait, timeout.Token);
            if (task is null)
            {
                return null;
            }
            if (cancellationToken.IsCancellationRequested)
            {
                Add(task, atFront: true);
                return null;
            }
            var response = task.TryStart(identity);
            if (response is not null)
            {
                return response;
            }
        }
        return null;
    }

    private async Task<IDispatchable<TResponse>?> TakeAsync(Action? onWait, CancellationToken cancellationToken)
    {
        TaskCompletionSource<IDispatchable<TResponse>> waiter;
        LinkedListNode<TaskCompletionSource<IDispatchable<TResponse>>> node;
        lock (_gate)
        {
            if (_backlog.TryDequeue(out var queued))
            {
                return queued;
            }
            waiter = new TaskCompletionSource<IDispatchable<TResponse>>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiters.AddLast(waiter);
        }
        onWait?.Invoke();
        using (cancellationToken.Register(() => waiter.TrySetCanceled()))
        {
            try
            {
                return await waiter.Task;
            }
            catch (OperationCanceledException)
            {
                lock (_gate)
                {
                    if (node.List is not null)
                    {
                        _waiters.Remove(node);
                    }
                }
                return null;
            }
        }
    }
}
