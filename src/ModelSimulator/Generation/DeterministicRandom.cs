namespace AgentOrchestrator.ModelSimulator.Generation;

/// <summary>
/// SplitMix64: a tiny seeded generator whose sequence is fixed by this code, unlike <see cref="Random"/>,
/// whose seeded output is not guaranteed across .NET versions. Not for security.
/// </summary>
internal sealed class DeterministicRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [<paramref name="minInclusive"/>, <paramref name="maxInclusive"/>].</summary>
    public int NextInclusive(int minInclusive, int maxInclusive)
    {
        ulong span = (ulong)((long)maxInclusive - minInclusive + 1);
        return (int)(minInclusive + (long)(NextUInt64() % span));
    }

    /// <summary>A value in [0, <paramref name="maxExclusive"/>).</summary>
    public int Next(int maxExclusive) => NextInclusive(0, maxExclusive - 1);
}
