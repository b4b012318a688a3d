using System.Globalization;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Caps processes each at a fraction of one core with a Linux cgroup CPU quota per process (cgroup v2 <c>cpu.max</c>,
/// or v1 <c>cpu.cfs_quota_us</c>), as if each ran on a node of its own that size: on a machine whose few cores also run
/// the broker, Redis and the load generator, capped gateways are what saturates first, so adding one shows what it
/// adds. Needs root. Dispose after the processes exited: the groups are removed then.
/// </summary>
internal sealed class CpuQuotas : IDisposable
{
    // A short period: the kernel stops a group that used its quota until the period ends, so a 100 ms period would stall
    // a quarter-core gateway for up to 75 ms at a time and every p99 would measure the throttle, not the gateway.
    private const int PeriodUs = 10_000;
    private readonly List<string> _groups = [];

    public int Count => _groups.Count;

    public void Apply(int processId, double cores)
    {
        var v2 = File.Exists("/sys/fs/cgroup/cgroup.controllers");
        var root = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/cpu";
        if (!Directory.Exists(root))
        {
            throw new NotSupportedException($"A CPU quota needs the cgroup CPU controller ({root} is missing).");
        }
        var group = Path.Combine(root, $"ao-bench-{processId}");
        Directory.CreateDirectory(group);
        _groups.Add(group);
        var quotaUs = ((int)(cores * PeriodUs)).ToString(CultureInfo.InvariantCulture);
        if (v2)
        {
            File.WriteAllText(Path.Combine(group, "cpu.max"), $"{quotaUs} {PeriodUs}");
        }
        else
        {
            File.WriteAllText(Path.Combine(group, "cpu.cfs_period_us"), PeriodUs.ToString(CultureInfo.InvariantCulture));
            File.WriteAllText(Path.Combine(group, "cpu.cfs_quota_us"), quotaUs);
        }
        File.WriteAllText(Path.Combine(group, "cgroup.procs"), processId.ToString(CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        foreach (var group in _groups)
        {
            try
            {
                Directory.Delete(group);
            }
            catch (IOException)
            {
                // a process is still in it: the kernel keeps the group until it exits
            }
        }
    }
}
