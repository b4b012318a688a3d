using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Bench;

/// <summary>What the server counted per run between two scrapes of its /metrics (.NET runtime and ASP.NET Core meters).</summary>
internal readonly record struct WorkPerRun(double HttpRequests, double AllocatedKb, double WorkItems, double Exceptions, double LockContentions, double JitMethods, double JitMs, double GcPauseMs)
{
    public static WorkPerRun Between(PrometheusScrape before, PrometheusScrape after, int runs)
    {
        double Delta(string name) => after.Sum(name) - before.Sum(name);
        return new WorkPerRun(
            Delta("http_server_request_duration_seconds_count") / runs,
            Delta("dotnet_gc_heap_total_allocated_bytes_total") / 1024 / runs,
            Delta("dotnet_thread_pool_work_item_count_total") / runs,
            Delta("dotnet_exceptions_total") / runs,
            Delta("dotnet_monitor_lock_contentions_total") / runs,
            Delta("dotnet_jit_compiled_methods_total"),
            Delta("dotnet_jit_compilation_time_seconds_total") * 1000,
            Delta("dotnet_gc_pause_time_seconds_total") * 1000);
    }
}
