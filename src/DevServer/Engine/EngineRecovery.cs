using System.Diagnostics;
using System.Text.Json;
using AgentOrchestrator.DevServer.Engine.State;
using AgentOrchestrator.DevServer.Engine.Storage;
using Google.Protobuf;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// Rebuilds the engine from what a store kept and re-arms everything as each part would have: timers due during
/// the downtime fire at once, timeouts count from the recorded times, pending tasks go back on their (normal)
/// queues, and cross-workflow work whose outcome was not recorded is done again.
/// </summary>
internal static class EngineRecovery
{
    public static void Restore(WorkflowEngine engine, IWorkflowStore store)
    {
        var clock = Stopwatch.StartNew();
        List<WorkflowRun> runs = [];
        try
        {
            foreach (var stored in store.LoadRuns())
            {
                var chain = engine.Registry.GetNamespace(stored.Namespace).Chains.GetOrAdd(stored.WorkflowId,
                    static (id, ns) => new WorkflowChain(ns, id), engine.Registry.GetNamespace(stored.Namespace));
                var run = RunSnapshot.Restore(chain, stored);
                chain.Runs.Add(run);
                runs.Add(run);
            }
        }
        catch (Exception error) when (error is InvalidDataException or InvalidProtocolBufferException or JsonException)
        {
            throw new DevServerStorageException($"The dev server's stored state is corrupt ({error.Message}). Move the database away to start empty.", error);
        }
        var open = 0;
        foreach (var run in runs)
        {
            open += run.IsOpen ? 1 : 0;
            engine.Registry.WithLockedRun(run, r =>
            {
                engine.Lifecycle.Resume(r);
                engine.WorkflowTasks.Resume(r);
                engine.Timers.Resume(r);
                if (r.IsOpen)
                {
                    foreach (var activity in r.Activities.Values)
                    {
                        engine.Activities.Resume(r, activity);
                    }
                }
                UpdateCoordinator.Resume(r);
                engine.Children.Resume(r);
                engine.ExternalRequests.Resume(r);
            });
        }
        var namespaces = engine.Registry.Namespaces.Count();
        StoreLog.Restored(engine.Context.Logger, runs.Count, open, namespaces, clock.ElapsedMilliseconds);
    }
}
