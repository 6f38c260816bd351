namespace IdOS.Akka.Engine.Simulation;

/// <summary>
/// xoshiro256** seeded through SplitMix64: a generator whose sequence is fixed by this code alone, so a seed replays
/// identically on any runtime version (System.Random makes no such promise).
/// </summary>
public sealed class SimRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public SimRandom(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
    }

    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, exclusiveMax).</summary>
    public int Next(int exclusiveMax)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exclusiveMax);
        return (int)(NextUInt64() % (ulong)exclusiveMax);
    }

    /// <summary>Uniform in [min, max].</summary>
    public long Between(long min, long max) => min + (long)(NextUInt64() % (ulong)(max - min + 1));

    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double Between(double min, double max) => min + ((max - min) * NextDouble());

    public bool Chance(double probability) => NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>Exponentially distributed with the given mean, for network delay tails.</summary>
    public double Exponential(double mean) => -mean * Math.Log(1.0 - NextDouble());

    public void Shuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    public SimRandom Fork() => new(NextUInt64());

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
