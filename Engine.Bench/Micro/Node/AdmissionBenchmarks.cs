using BenchmarkDotNet.Attributes;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Bench.Micro.Node;

/// <summary>
/// Admission's check against committed transactions, where the cluster benchmark's profile at block 400 put the most
/// per-command time (the filter's probe, a cache miss into 16 MiB): 4,000 new commands hashed and probed one at a
/// time, against hashed first and probed together. The filter holds 3 million hashes (minutes of a validator at block
/// 400), and every iteration starts with caches full of other data, as a validator sharing two cores has them.
/// </summary>
public class AdmissionBenchmarks
{
    private const int Commands = 4_000;
    private readonly HashFilter _filter = new(HashFilter.DefaultBits);
    private readonly byte[][] _commands = new byte[Commands][];
    private readonly Hash32[] _hashes = new Hash32[Commands];
    private readonly bool[] _committed = new bool[Commands];
    private readonly byte[] _elsewhere = new byte[64 << 20];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        var hash = new byte[Hash32.Size];
        for (var i = 0; i < 3_000_000; i++)
        {
            random.NextBytes(hash);
            _filter.Add(new Hash32(hash));
        }

        for (var i = 0; i < Commands; i++)
        {
            _commands[i] = new byte[32];
            random.NextBytes(_commands[i]);
        }
    }

    [IterationSetup]
    public void FillCachesWithOtherData() => Random.Shared.NextBytes(_elsewhere);

    [Benchmark(Baseline = true)]
    public int OneAtATime()
    {
        var committed = 0;
        for (var i = 0; i < Commands; i++)
        {
            committed += _filter.MayContain(Hash32.Compute(_commands[i])) ? 1 : 0;
        }

        return committed;
    }

    [Benchmark]
    public int HashedThenProbedTogether()
    {
        for (var i = 0; i < Commands; i++)
        {
            _hashes[i] = Hash32.Compute(_commands[i]);
        }

        _filter.MayContainAll(_hashes, _committed);
        return _committed.Count(c => c);
    }
}
